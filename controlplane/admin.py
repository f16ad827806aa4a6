from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.db.models import F, Func, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from commitlog.records import Event
from controlplane.admin_display import ReadOnlyAdminMixin, pretty_json
from controlplane.models import ApiCredential, RebalanceBatch, StrategySubmission
from controlplane.overview import trace
from controlplane.services.credentials import credential_issue, credential_revoke


class WorldFilter(admin.SimpleListFilter):
    """Any of a submission's worlds, not only the first."""

    title = "world"
    parameter_name = "world"
    max_choices = 200

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        worlds = (
            StrategySubmission.objects.annotate(world=Func(F("world_ids"), function="unnest"))
            .values_list("world", flat=True)
            .distinct()
            .order_by("world")[: self.max_choices]
        )
        return [(world, world) for world in worlds]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(world_ids__contains=[value]) if value else queryset


def _when(moment: datetime | None) -> str:
    return moment.isoformat(sep=" ", timespec="milliseconds") if moment else "-"


def _trace_html(
    event: str, aggregate_id: str, submitted_at: datetime, recorded_at: datetime | None
) -> SafeString:
    """The record's way through the system, one row per step."""
    found = trace(event=event, aggregate_id=aggregate_id)
    steps: list[tuple[str, str, SafeString | str]] = [("accepted", _when(submitted_at), "")]
    if found.outbox is None:
        steps.append(("outbox row", "-", "none in this database (rebuilt from the log?)"))
    else:
        row = found.outbox
        url = reverse("admin:commitlog_outboxevent_change", args=[row.pk])
        detail = format_html(
            '<a href="{}">#{}</a> {}, {} failed attempt(s){}',
            url,
            row.pk,
            row.state,
            row.attempts,
            f", last error: {row.last_error}" if row.last_error else "",
        )
        steps.append(("outbox row", _when(row.created_at), detail))
        position = (
            f"partition {row.published_partition}, offset {row.published_offset}"
            if row.published_offset is not None
            else "not yet"
        )
        steps.append(("published to Kafka", _when(row.published_at), position))
    if found.consumed is None:
        steps.append(("read back by the consumer", "-", "not yet"))
    else:
        consumed = found.consumed
        note = " (rebuilt from its payload)" if consumed.rebuilt else ""
        steps.append(
            (
                "read back by the consumer",
                _when(consumed.consumed_at),
                f"{consumed.topic} partition {consumed.partition}, offset {consumed.offset}{note}",
            )
        )
    steps.append(("recorded", _when(recorded_at), ""))
    for conflict in found.conflicts:
        steps.append(("CONFLICT", _when(conflict.detected_at), conflict.reason))
    rows = format_html_join(
        "", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", ((a, b, c) for a, b, c in steps)
    )
    return format_html('<table class="cp-trace">{}</table>', rows)


@admin.register(StrategySubmission)
class StrategySubmissionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[StrategySubmission]):
    list_display = (
        "strategy_id",
        "status",
        "world_id",
        "execution_domain",
        "downgraded",
        "submitted_at",
        "commitlog_partition",
        "commitlog_offset",
    )
    list_filter = ("status", WorldFilter, "execution_domain", "downgraded", "downgrade_reason")
    search_fields = ("=strategy_id", "dag_hash", "world_id")
    date_hierarchy = "submitted_at"
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "strategy_id",
        "status",
        "dag_hash",
        "world_ids",
        "execution_domain",
        "downgraded",
        "downgrade_reason",
        "node_ids_crc32",
        "insert_sentinel",
        "submitted_at",
        "published_at",
        "recorded_at",
        "commitlog_partition",
        "commitlog_offset",
        "trace",
        "compute_context_json",
        "meta_json",
        "dag_json",
    )
    readonly_fields = fields

    @admin.display(description="trace")
    def trace(self, obj: StrategySubmission) -> SafeString:
        return _trace_html(
            Event.INGEST.value, str(obj.strategy_id), obj.submitted_at, obj.recorded_at
        )

    @admin.display(description="compute context")
    def compute_context_json(self, obj: StrategySubmission) -> SafeString:
        return pretty_json(obj.compute_context)

    @admin.display(description="meta")
    def meta_json(self, obj: StrategySubmission) -> SafeString:
        return pretty_json(obj.meta)

    @admin.display(description="DAG")
    def dag_json(self, obj: StrategySubmission) -> SafeString:
        return pretty_json(obj.dag)


@admin.register(RebalanceBatch)
class RebalanceBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[RebalanceBatch]):
    list_display = (
        "batch_id",
        "status",
        "world_id",
        "scope",
        "total_orders",
        "reduce_only_orders",
        "reduce_only_ratio",
        "mode",
        "shared_account",
        "submitted_at",
    )
    list_filter = ("status", "scope", "world_id", "mode", "shared_account")
    search_fields = ("=batch_id", "world_id")
    date_hierarchy = "submitted_at"
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "batch_id",
        "status",
        "world_id",
        "scope",
        "mode",
        "shared_account",
        "total_orders",
        "reduce_only_orders",
        "reduce_only_ratio",
        "submitted_at",
        "published_at",
        "recorded_at",
        "commitlog_partition",
        "commitlog_offset",
        "trace",
        "orders_json",
    )
    readonly_fields = fields

    @admin.display(description="trace")
    def trace(self, obj: RebalanceBatch) -> SafeString:
        return _trace_html(Event.REBALANCE.value, obj.batch_id, obj.submitted_at, obj.recorded_at)

    @admin.display(description="orders")
    def orders_json(self, obj: RebalanceBatch) -> SafeString:
        return pretty_json(obj.orders)


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin[ApiCredential]):
    list_display = ("name", "key_prefix", "is_active", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "key_prefix")
    readonly_fields = ("key_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: ApiCredential) -> bool:
        return obj.is_active

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The name is set once, when the credential is issued.
        return (*self.readonly_fields, "name") if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("name",) if obj is None else ("name", *self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead, so the audit trail stays

    def save_model(self, request: HttpRequest, obj: ApiCredential, form: Any, change: bool) -> None:
        if change:
            return
        issued = credential_issue(name=obj.name)
        obj.pk = issued.credential.pk
        obj.key_prefix = issued.credential.key_prefix
        obj.key_hash = issued.credential.key_hash
        obj.created_at = issued.credential.created_at
        messages.warning(
            request,
            f"Token for {obj.name!r} (shown only now, copy it): {issued.token}",
        )

    @admin.action(description="Revoke selected credentials")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiCredential]) -> None:
        revoked = 0
        for credential in queryset.filter(revoked_at__isnull=True):
            credential_revoke(credential=credential)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} credential(s).", messages.SUCCESS)
