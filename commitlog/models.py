"""The transactional outbox: one row per commit-log record still to be (or already) published."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class OutboxState(models.TextChoices):
    PENDING = "pending", "pending"
    PUBLISHED = "published", "published"
    DEAD = "dead", "dead (retries exhausted)"


class OutboxEvent(models.Model):
    # The id is the outbox order: the relay publishes rows by ascending id.
    id = models.BigAutoField(primary_key=True)
    event = models.CharField(
        max_length=40, help_text="Record event (its app registers a handler for it)."
    )
    aggregate_id = models.CharField(
        max_length=250, help_text="Strategy id or batch id the record is about."
    )
    key = models.CharField(max_length=300, help_text="Kafka record key.")
    value = models.BinaryField(help_text="Kafka record value, fixed when the row was written.")
    state = models.CharField(
        max_length=20, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Failed publish attempts.")
    next_attempt_at = models.DateTimeField(
        auto_now_add=True, help_text="Not retried before this time."
    )
    last_error = models.TextField(blank=True, default="", help_text="Last publish failure.")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_partition = models.IntegerField(null=True, blank=True)
    published_offset = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "outbox row"
        # Few, narrow indexes: marking a row published is never a HOT update (its state
        # leaves the pending index), so each index costs a write per row relayed. The
        # partial indexes hold only the rows still to publish, or dead, so the relay's
        # claim and the dashboard's counts do not walk the published history.
        indexes = [
            models.Index(
                fields=["id"], condition=Q(state=OutboxState.PENDING), name="outbox_pending"
            ),
            models.Index(fields=["id"], condition=Q(state=OutboxState.DEAD), name="outbox_dead"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=OutboxState.values), name="outbox_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=OutboxState.PUBLISHED)
                | Q(published_at__isnull=False, published_offset__isnull=False),
                name="outbox_published_has_position",
            ),
            models.UniqueConstraint(fields=["key"], name="outbox_key_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.key}"


class UnreadRecord(models.Model):
    """A published outbox row whose record the consumer has not read back yet.

    The backlog only: the relay adds a row when it marks the outbox row published (unless
    the consumer already recorded it), the consumer removes it when it reads the key. The
    reconciler looks here for records the log lost, and the prune keeps any outbox row
    listed here. A table of its own, not a flag on the outbox row, so the consumer never
    writes to the outbox, whose key index grows with the retention window.
    """

    # No foreign key: rows come and go by the thousand, and a constraint would cost each
    # of them a lookup (the relay writes both rows in one transaction anyway).
    outbox_id = models.BigIntegerField(primary_key=True, help_text="The outbox row's id.")
    key = models.CharField(max_length=300, help_text="Kafka record key.")
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["outbox_id"]
        constraints = [models.UniqueConstraint(fields=["key"], name="unread_key_unique")]

    def __str__(self) -> str:
        return self.key


class ConsumedRecord(models.Model):
    """The durable dedup mark: one row per record key ever applied.

    Inserted in the same transaction as the state change it guards, so a record is
    applied at most once across restarts, rebalances and consumer replicas.
    """

    key = models.CharField(max_length=300, help_text="Kafka record key.")
    event = models.CharField(max_length=40, help_text="Record event.")
    record_id = models.CharField(max_length=250, help_text="Strategy or batch id.")
    value_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the applied value.")
    topic = models.CharField(max_length=250)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    rebuilt = models.BooleanField(
        default=False, help_text="Applied by rebuilding state absent from this database."
    )
    consumed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        # A unique constraint, not unique=True: that would add a varchar_pattern_ops twin
        # index, one more write per record applied. ON CONFLICT (key) infers this one.
        indexes = [models.Index(fields=["topic", "partition", "offset"], name="consumed_position")]
        constraints = [models.UniqueConstraint(fields=["key"], name="consumed_key_unique")]

    def __str__(self) -> str:
        return self.key


class InvalidRecord(models.Model):
    """A record the consumer could not decode or apply; kept for operators, then skipped.

    Its key, value and headers are kept cut to CONSUMER_INVALID_RECORD_MAX_BYTES each, with
    the full lengths and the value's digest: whoever can write to the topic could otherwise
    grow this table by a whole record for each one forged.
    """

    topic = models.CharField(max_length=250)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    key = models.BinaryField(null=True, help_text="Raw key bytes (the first of them).")
    key_length = models.IntegerField(null=True, help_text="Length of the whole key.")
    value = models.BinaryField(null=True, help_text="Raw value bytes (the first of them).")
    value_length = models.IntegerField(null=True, help_text="Length of the whole value.")
    value_sha256 = models.CharField(
        max_length=64, blank=True, default="", help_text="SHA-256 of the whole value."
    )
    headers = models.TextField(
        blank=True, default="", help_text="The record's headers, as text (the first of them)."
    )
    error = models.TextField(help_text="Why it was refused.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "partition", "offset"], name="invalid_record_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


class RecordConflict(models.Model):
    """A record whose key was already applied with different content, or whose state
    clashes with what this database holds: flagged, never silently applied or dropped.
    Its value is cut as an invalid record's is (commitlog.consumer.kept)."""

    key = models.CharField(max_length=300, db_index=True)
    event = models.CharField(max_length=40)
    record_id = models.CharField(max_length=250, db_index=True)
    reason = models.TextField(help_text="What clashes.")
    value = models.BinaryField(help_text="The conflicting record's value (the first of its bytes).")
    value_length = models.IntegerField(null=True, help_text="Length of the whole value.")
    value_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the whole value.")
    applied_sha256 = models.CharField(
        max_length=64, blank=True, default="", help_text="SHA-256 of the value applied for the key."
    )
    topic = models.CharField(max_length=250)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "partition", "offset"], name="record_conflict_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.topic}[{self.partition}]@{self.offset}"


class ConsumerPosition(models.Model):
    """Where a consumer group stands in each partition, written after every offset commit."""

    group = models.CharField(max_length=250)
    topic = models.CharField(max_length=250)
    partition = models.IntegerField()
    committed_offset = models.BigIntegerField(help_text="Next offset the group will read.")
    end_offset = models.BigIntegerField(help_text="High watermark seen with that commit.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group", "topic", "partition"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "topic", "partition"], name="consumer_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.topic}[{self.partition}]@{self.committed_offset}"

    @property
    def lag(self) -> int:
        return max(0, self.end_offset - self.committed_offset)


class MetricCounter(models.Model):
    """Monotonic counters shared by every process (relay workers, consumers), so that one
    /metrics endpoint reports the whole system and survives restarts."""

    name = models.CharField(max_length=100)
    label = models.CharField(max_length=100, blank=True, default="")
    value = models.FloatField(default=0)

    class Meta:
        ordering = ["name", "label"]
        constraints = [
            models.UniqueConstraint(fields=["name", "label"], name="metric_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}{{{self.label}}}={self.value}"


class ActivityMinute(models.Model):
    """What the relay or a consumer group did in one minute, for the dashboard's history.

    One row per (minute, source), upserted once per relay run or consumer batch: counts
    add up, gauges keep the latest value. Bounded by the prune (about two days).
    """

    minute = models.DateTimeField(help_text="Start of the minute (UTC).")
    source = models.CharField(max_length=300, help_text="relay, or consumer:<group>.")
    # Records published (relay) or applied (consumer), per event.
    records = models.JSONField(default=dict)
    batches = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0, help_text="Failed publish attempts.")
    dead = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    backlog = models.BigIntegerField(null=True, help_text="Pending outbox rows, last seen.")
    oldest_pending_s = models.FloatField(null=True, help_text="Oldest pending row's age.")
    lag = models.BigIntegerField(null=True, help_text="The group's lag, last seen.")
    last_batch_at = models.DateTimeField(null=True, help_text="Last batch that moved records.")

    class Meta:
        ordering = ["minute", "source"]
        verbose_name = "activity minute"
        # The dashboard reads a day of minutes through this index (minute first).
        constraints = [
            models.UniqueConstraint(fields=["minute", "source"], name="activity_minute_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.minute:%Y-%m-%d %H:%M}"


class AuditRun(models.Model):
    """One run of audit_commitlog: what it read and what disagreed (the last few kept)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    since = models.DateTimeField(null=True, help_text="The window's start; null: the whole log.")
    records = models.BigIntegerField(default=0, help_text="Records read.")
    matched = models.BigIntegerField(default=0)
    pending = models.BigIntegerField(default=0, help_text="Records whose row is not recorded yet.")
    missing = models.BigIntegerField(default=0, help_text="Recorded rows missing from the log.")
    unknown = models.BigIntegerField(default=0, help_text="Records unknown to the database.")
    conflicts = models.BigIntegerField(default=0, help_text="Same key, different bytes.")
    differs = models.BigIntegerField(default=0, help_text="Rows recorded from other bytes.")
    positions = models.JSONField(default=dict, help_text="Per partition: [start, end] read.")
    examples = models.JSONField(default=list, help_text="The first disagreements, described.")
    error = models.TextField(blank=True, default="", help_text="Why the run stopped early.")

    class Meta:
        ordering = ["-id"]
        verbose_name = "audit run"

    def __str__(self) -> str:
        return f"audit {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def disagreements(self) -> int:
        return self.missing + self.unknown + self.conflicts + self.differs

    @property
    def agrees(self) -> bool:
        return not self.error and self.disagreements == 0
