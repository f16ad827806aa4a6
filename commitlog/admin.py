from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from commitlog.conf import commitlog_settings
from commitlog.models import (
    ConsumedRecord,
    InvalidRecord,
    OutboxEvent,
    OutboxState,
    RecordConflict,
)
from commitlog.outbox.republish import REPUBLISH_MAX_ROWS, TooManyToRepublish, outbox_republish
from commitlog.outbox.write import outbox_requeue_dead
from commitlog.records import RecordRefused, decode_value, record_key
from commitlog.registry import admin_url, registered_events
from config.adminkit.display import ReadOnlyAdminMixin, pretty_json
from config.adminkit.estimates import EstimatedCountPaginator
from config.adminkit.export_admin import ExportMixin
from config.adminkit.filters import closed_choices_filter
from config.adminkit.search import text_prefix


def _aggregate_link(event: str, aggregate_id: str) -> SafeString:
    """A link to the aggregate's own admin page, which its event's handler names."""
    url = admin_url(event, aggregate_id)
    if url is None:
        return format_html("{}", aggregate_id)
    return format_html('<a href="{}">{}</a>', url, aggregate_id)


def _by_key(queryset: QuerySet[Any], search_term: str) -> QuerySet[Any]:
    """A record key, or the strategy or batch id it is about, or the first characters of
    either: ranges of the unique key index, never a scan of the table."""
    term = search_term.strip()
    if not term:
        return queryset
    found = Q(pk__in=[])
    for prefix in (term, *(record_key(event, term) for event in registered_events())):
        found |= text_prefix("key", prefix)
    if term.isdigit() and queryset.model is OutboxEvent:
        found |= Q(pk=int(term))
    return queryset.filter(found)


# Field filters on these CharFields would list their choices with a DISTINCT over the
# whole table on every page. The events are those the apps registered; the topic is the
# one this deployment reads (a record of another topic is still found by its key).
EventFilter = closed_choices_filter("event", "event", registered_events)
TopicFilter = closed_choices_filter(
    "topic", "topic", lambda: [commitlog_settings().commitlog_topic]
)


def _decoded_value(raw: bytes | memoryview | None) -> SafeString:
    if raw is None:
        return format_html("<pre>{}</pre>", "(no value)")
    data = bytes(raw)
    try:
        record = decode_value(data)
    except RecordRefused as exc:
        text = data[:4000].decode("utf-8", errors="replace")
        return format_html("<pre>undecodable: {}\n\n{}</pre>", str(exc), text)
    return pretty_json([record.event, record.timestamp_ms, record.id, record.payload])


ERROR_SHOWN = 80  # characters of the last error in the list; the row shows all of it


class LastErrorFilter(admin.SimpleListFilter):
    title = "last error"
    parameter_name = "error"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "has an error"), ("no", "no error")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[OutboxEvent]
    ) -> QuerySet[OutboxEvent]:
        if self.value() == "yes":
            return queryset.exclude(last_error="")
        if self.value() == "no":
            return queryset.filter(last_error="")
        return queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(ExportMixin, ReadOnlyAdminMixin, admin.ModelAdmin[OutboxEvent]):
    list_display = (
        "id",
        "event_name",
        "aggregate_id",
        "state",
        "attempts",
        "error",
        "next_attempt_at",
        "created_at",
        "published_at",
        "position",
    )
    list_filter = ("state", EventFilter, LastErrorFilter)
    search_fields = ("=id", "=key")  # as get_search_results reads them
    search_help_text = (
        "An outbox id, or a record key or a strategy or batch id, or their first characters."
    )
    list_per_page = 100
    show_full_result_count = False
    paginator = EstimatedCountPaginator
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
    actions = ("requeue_dead", "republish")
    export_fields = (
        "id",
        "event",
        "aggregate_id",
        "key",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "published_at",
        "published_partition",
        "published_offset",
    )
    export_order = ("id",)  # the outbox order

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OutboxEvent], search_term: str
    ) -> tuple[QuerySet[OutboxEvent], bool]:
        return _by_key(queryset, search_term), False

    @admin.action(description="Requeue selected dead rows")
    def requeue_dead(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        # Counted before the move: a list filtered on dead rows no longer holds them after.
        selected = queryset.count()
        ids = list(queryset.filter(state=OutboxState.DEAD).values_list("id", flat=True))
        moved = outbox_requeue_dead(ids=ids)
        skipped = selected - moved
        note = (
            f" ({skipped} selected row(s) were not dead and were left as they are)"
            if skipped
            else ""
        )
        self.message_user(request, f"Requeued {moved} dead row(s){note}.", messages.SUCCESS)

    def has_republish_permission(self, request: HttpRequest) -> bool:
        # A republish writes to the outbox: for staff who may change it, not only view it.
        return request.user.has_perm("commitlog.change_outboxevent")

    @admin.action(description="Republish selected published rows", permissions=["republish"])
    def republish(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        # One more than the bound, never a count: "select all" over a long history.
        ids = list(queryset.order_by().values_list("id", flat=True)[: REPUBLISH_MAX_ROWS + 1])
        actor = request.user if isinstance(request.user, AbstractBaseUser) else None
        try:
            moved = outbox_republish(ids=ids, actor=actor)
        except TooManyToRepublish as exc:
            self.message_user(request, f"Not republished: {exc}.", messages.ERROR)
            return
        skipped = len(ids) - len(moved)
        note = (
            f" ({skipped} selected row(s) were not published and were left as they are)"
            if skipped
            else ""
        )
        self.message_user(
            request,
            f"Republishing {len(moved)} row(s) with the same bytes{note}.",
            messages.SUCCESS,
        )

    @admin.display(description="last error")
    def error(self, obj: OutboxEvent) -> str:
        text = obj.last_error
        return text if len(text) <= ERROR_SHOWN else text[: ERROR_SHOWN - 1] + "…"

    @admin.display(description="event", ordering="event")
    def event_name(self, obj: OutboxEvent) -> str:
        # The part that tells events apart (`gateway.ingest` -> `ingest`), as in the key.
        return obj.event.rpartition(".")[2]

    @admin.display(description="partition / offset")
    def position(self, obj: OutboxEvent) -> str:
        if obj.published_partition is None:
            return "-"
        return f"{obj.published_partition} / {obj.published_offset}"

    @admin.display(description="submission or batch")
    def aggregate(self, obj: OutboxEvent) -> SafeString:
        return _aggregate_link(obj.event, obj.aggregate_id)

    @admin.display(description="value (decoded)")
    def value_json(self, obj: OutboxEvent) -> SafeString:
        return _decoded_value(obj.value)


@admin.register(ConsumedRecord)
class ConsumedRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ConsumedRecord]):
    list_display = (
        "key",
        "event",
        "record",
        "topic",
        "partition",
        "offset",
        "rebuilt",
        "consumed_at",
    )
    list_filter = (EventFilter, "rebuilt")
    search_fields = ("=key",)  # as get_search_results reads them
    search_help_text = "A record key or a strategy or batch id, or their first characters."
    list_per_page = 100
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ConsumedRecord], search_term: str
    ) -> tuple[QuerySet[ConsumedRecord], bool]:
        return _by_key(queryset, search_term), False

    @admin.display(description="submission or batch")
    def record(self, obj: ConsumedRecord) -> SafeString:
        return _aggregate_link(obj.event, obj.record_id)


@admin.register(InvalidRecord)
class InvalidRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[InvalidRecord]):
    list_display = ("id", "topic", "partition", "offset", "error", "received_at")
    list_filter = (TopicFilter,)
    search_fields = ("error",)
    fields = ("topic", "partition", "offset", "error", "received_at", "key_text", "value_text")
    readonly_fields = fields

    @admin.display(description="key")
    def key_text(self, obj: InvalidRecord) -> str:
        return bytes(obj.key).decode("utf-8", errors="replace") if obj.key is not None else "-"

    @admin.display(description="value")
    def value_text(self, obj: InvalidRecord) -> SafeString:
        return _decoded_value(obj.value)


@admin.register(RecordConflict)
class RecordConflictAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[RecordConflict]):
    list_display = ("key", "record", "reason", "topic", "partition", "offset", "detected_at")
    list_filter = (EventFilter, TopicFilter)
    search_fields = ("=key",)  # as get_search_results reads them
    search_help_text = "A record key or a strategy or batch id, or their first characters."
    fields = (
        "key",
        "record",
        "reason",
        "value_sha256",
        "applied_sha256",
        "topic",
        "partition",
        "offset",
        "detected_at",
        "value_json",
    )
    readonly_fields = fields

    @admin.display(description="submission or batch")
    def record(self, obj: RecordConflict) -> SafeString:
        return _aggregate_link(obj.event, obj.record_id)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[RecordConflict], search_term: str
    ) -> tuple[QuerySet[RecordConflict], bool]:
        return _by_key(queryset, search_term), False

    @admin.display(description="conflicting value (decoded)")
    def value_json(self, obj: RecordConflict) -> SafeString:
        return _decoded_value(obj.value)
