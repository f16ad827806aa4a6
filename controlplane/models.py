"""Submissions, rebalance batches, API credentials and idempotency keys, with their rules
in the database."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q

from controlplane.domain import strategy_ids as ids
from controlplane.domain import widths
from controlplane.domain.scopes import Scope


def _record_digest() -> models.CharField[str, str]:
    # A default in the database too, so that the writes of new rows need not name it.
    return models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        help_text="SHA-256 of the commit-log record recorded; a replay compares against it.",
    )


def _sent_by() -> models.ForeignKey[ApiCredential | None, ApiCredential | None]:
    # PROTECT: credentials are revoked, never deleted, so what a credential sent stays
    # attributed. Null for rows rebuilt from the log, anonymous dev calls, and rows
    # written before attribution. Indexed explicitly in Meta.
    return models.ForeignKey(
        "ApiCredential",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The credential that sent it.",
    )


class SubmissionStatus(models.TextChoices):
    ACCEPTED = "accepted", "accepted (saved, outbox pending)"
    PUBLISHED = "published", "published (in Kafka)"
    RECORDED = "recorded", "recorded (read back by the consumer)"


class StrategySubmission(models.Model):
    strategy_id = models.UUIDField(
        primary_key=True,
        default=ids.new_strategy_id,
        editable=False,
        help_text="Id assigned on submit.",
    )
    dag_hash = models.CharField(
        max_length=64,
        help_text="SHA-256 of the DAG as submitted (before the sentinel); one submission per "
        "DAG in its owner scope.",
    )
    owner_scope = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text="The scope the DAG is unique in: the SHA-256 of the sending credential's "
        "worlds, blank for the global scope (unlimited credentials, rows rebuilt from the log).",
    )
    dag = models.JSONField(help_text="The stored DAG, including the VersionSentinel if inserted.")
    node_ids_crc32 = models.BigIntegerField(help_text="The checksum the client sent.")
    insert_sentinel = models.BooleanField(help_text="Whether the VersionSentinel node was added.")
    world_ids = ArrayField(
        models.CharField(max_length=widths.WORLD_ID),
        help_text="Unique world ids, in request order.",
    )
    world_id = models.CharField(max_length=widths.WORLD_ID, help_text="First of world_ids.")
    execution_domain = models.CharField(
        max_length=widths.EXECUTION_DOMAIN, help_text="Normalised execution domain."
    )
    compute_context = models.JSONField(help_text="As published in the ingest record.")
    downgraded = models.BooleanField(default=False, help_text="Downgraded into safe mode.")
    downgrade_reason = models.CharField(
        max_length=40, blank=True, default="", help_text="Why it was downgraded, if it was."
    )
    meta = models.JSONField(null=True, blank=True, help_text="Client metadata, JSON-coerced.")
    status = models.CharField(
        max_length=20,
        choices=SubmissionStatus.choices,
        default=SubmissionStatus.ACCEPTED,
        help_text="accepted -> published -> recorded.",
    )
    submitted_at = models.DateTimeField(help_text="Set by the control plane on submit.")
    published_at = models.DateTimeField(null=True, blank=True, help_text="Kafka commit time.")
    recorded_at = models.DateTimeField(null=True, blank=True, help_text="Read back from the log.")
    commitlog_partition = models.IntegerField(null=True, blank=True, help_text="Kafka partition.")
    commitlog_offset = models.BigIntegerField(null=True, blank=True, help_text="Kafka offset.")
    commitlog_sha256 = _record_digest()
    credential = _sent_by()

    class Meta:
        ordering = ["-submitted_at"]
        # Explicit indexes rather than db_index/unique: on PostgreSQL those add a second
        # varchar_pattern_ops index per column that nothing here queries. No index names
        # `status`, so the two status updates of a submission's life can stay HOT.
        indexes = [
            GinIndex(fields=["world_ids"], name="submission_world_ids_gin"),
            models.Index(fields=["world_id"], name="submission_world_id"),
            models.Index(fields=["execution_domain"], name="submission_domain"),
            models.Index(fields=["-submitted_at"], name="submission_submitted_at"),
            models.Index(fields=["credential"], name="submission_credential"),
        ]
        constraints = [
            # dag_hash first: the admin's search by a hash's first characters is a range
            # of this index.
            models.UniqueConstraint(
                fields=["dag_hash", "owner_scope"], name="submission_scope_dag_hash_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubmissionStatus.values), name="submission_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(node_ids_crc32__gte=0) & Q(node_ids_crc32__lte=0xFFFFFFFF),
                name="submission_crc32_range",
            ),
            models.CheckConstraint(
                condition=Q(downgraded=False, downgrade_reason="")
                | (Q(downgraded=True) & ~Q(downgrade_reason="")),
                name="submission_downgrade_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return str(self.strategy_id)

    @property
    def sentinel_id(self) -> str:
        return f"{self.strategy_id}-sentinel" if self.insert_sentinel else ""


class RebalanceBatch(models.Model):
    batch_id = models.CharField(
        max_length=widths.BATCH_ID,
        primary_key=True,
        help_text="The world id, a colon and 32 hex digits (a random UUID).",
    )
    world_id = models.CharField(max_length=widths.WORLD_ID, help_text="`global` for global.")
    scope = models.CharField(max_length=widths.SCOPE, choices=Scope.choices)
    mode = models.CharField(
        max_length=widths.MODE, blank=True, default="", help_text="As given, if any."
    )
    shared_account = models.BooleanField(default=False, help_text="Shared-account netting on.")
    orders = models.JSONField(help_text="The orders, other keys kept as given.")
    total_orders = models.PositiveIntegerField()
    reduce_only_orders = models.PositiveIntegerField()
    reduce_only_ratio = models.FloatField(help_text="reduce_only / total.")
    status = models.CharField(
        max_length=20,
        choices=SubmissionStatus.choices,
        default=SubmissionStatus.ACCEPTED,
    )
    submitted_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    commitlog_partition = models.IntegerField(null=True, blank=True)
    commitlog_offset = models.BigIntegerField(null=True, blank=True)
    commitlog_sha256 = _record_digest()
    credential = _sent_by()

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name_plural = "rebalance batches"
        # As for submissions: no varchar_pattern_ops twins, and `status` unindexed so
        # its updates can stay HOT.
        indexes = [
            models.Index(fields=["world_id"], name="batch_world_id"),
            models.Index(fields=["-submitted_at"], name="batch_submitted_at"),
            models.Index(fields=["credential"], name="batch_credential"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(scope__in=Scope.values), name="batch_scope_valid"),
            models.CheckConstraint(
                condition=Q(status__in=SubmissionStatus.values), name="batch_status_valid"
            ),
            models.CheckConstraint(condition=Q(total_orders__gt=0), name="batch_has_orders"),
            models.CheckConstraint(
                condition=Q(reduce_only_orders__lte=F("total_orders")),
                name="batch_reduce_only_le_total",
            ),
        ]

    def __str__(self) -> str:
        return self.batch_id


class ApiCredential(models.Model):
    """A bearer token an operator issues to one API client; only its hash is kept."""

    name = models.CharField(
        max_length=widths.CREDENTIAL_NAME, help_text="Who or what uses this credential."
    )
    key_prefix = models.CharField(
        max_length=16, editable=False, help_text="First characters of the token, to recognise it."
    )
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, help_text="SHA-256 of the whole token."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Set when revoked; then it stops working."
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Empty means unlimited, so credentials issued before limits existed keep working.
    allowed_worlds = ArrayField(
        models.CharField(max_length=widths.WORLD_ID),
        default=list,
        blank=True,
        help_text=(
            "The worlds it may submit to and read; empty: every world. A global rebalance "
            "batch's world is `global`."
        ),
    )
    allowed_scopes = ArrayField(
        models.CharField(max_length=widths.SCOPE, choices=Scope.choices),
        default=list,
        blank=True,
        help_text="The rebalance scopes it may use and read; empty: every scope.",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API credential"
        constraints = [
            models.CheckConstraint(
                condition=Q(allowed_scopes__contained_by=Scope.values),
                name="credential_scopes_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on a rebalance request, and the answer it was given:
    a retry with the same key and body hears that answer again and writes nothing."""

    # No index of its own: the unique constraint's index leads with it.
    credential = models.ForeignKey(
        ApiCredential,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    key = models.CharField(max_length=widths.IDEMPOTENCY_KEY)
    request_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    batch_ids = ArrayField(
        models.CharField(max_length=widths.BATCH_ID), help_text="The batches it made."
    )
    created_at = models.DateTimeField()

    class Meta:
        # For the admin: a batch's page shows the key that made it (the GIN index answers
        # `batch_ids @> [id]`), and a search finds batches by their key, which the unique
        # index cannot (it leads with the credential).
        indexes = [
            GinIndex(fields=["batch_ids"], name="idempotency_batch_ids_gin"),
            models.Index(fields=["key"], name="idempotency_key_search"),
        ]
        constraints = [
            # Anonymous calls (dev only) share one key space: NULL credentials compare equal.
            models.UniqueConstraint(
                fields=["credential", "key"], nulls_distinct=False, name="idempotency_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.key
