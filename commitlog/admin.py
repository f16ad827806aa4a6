from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from commitlog.models import OutboxEvent, OutboxState
from commitlog.outbox import outbox_requeue_dead
from commitlog.records import Event, InvalidRecord, decode_value
from controlplane.admin_display import ReadOnlyAdminMixin, pretty_json


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[OutboxEvent]):
    list_display = (
        "id",
        "event",
        "aggregate_id",
        "state",
        "attempts",
        "next_attempt_at",
        "created_at",
        "published_at",
        "published_partition",
        "published_offset",
    )
    list_filter = ("state", "event")
    search_fields = ("=id", "aggregate_id", "key")
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "id",
        "event",
        "aggregate",
        "key",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "published_at",
        "published_partition",
        "published_offset",
        "value_json",
    )
    readonly_fields = fields
    actions = ("requeue_dead",)

    @admin.action(description="Requeue selected dead rows")
    def requeue_dead(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        ids = list(queryset.filter(state=OutboxState.DEAD).values_list("id", flat=True))
        moved = outbox_requeue_dead(ids=ids)
        skipped = queryset.count() - moved
        note = (
            f" ({skipped} selected row(s) were not dead and were left as they are)"
            if skipped
            else ""
        )
        self.message_user(request, f"Requeued {moved} dead row(s){note}.", messages.SUCCESS)

    @admin.display(description="submission or batch")
    def aggregate(self, obj: OutboxEvent) -> SafeString:
        model = "strategysubmission" if obj.event == Event.INGEST else "rebalancebatch"
        url = reverse(f"admin:controlplane_{model}_change", args=[obj.aggregate_id])
        return format_html('<a href="{}">{}</a>', url, obj.aggregate_id)

    @admin.display(description="value (decoded)")
    def value_json(self, obj: OutboxEvent) -> SafeString:
        raw = bytes(obj.value)
        try:
            record = decode_value(raw)
        except InvalidRecord as exc:
            return format_html("<pre>undecodable: {}</pre>", str(exc))
        return pretty_json([record.event.value, record.timestamp_ms, record.id, record.payload])
