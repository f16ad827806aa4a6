"""The admin of what the consumer read back: consumed, invalid and conflicting records."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from commitlog.admin.common import (
    EventFilter,
    TopicFilter,
    aggregate_link,
    by_key,
    record_url,
)
from commitlog.models import (
    ConsumedRecord,
    InvalidRecord,
    RecordConflict,
)
from commitlog.record_display import decoded_value, kept_size
from config.adminkit.columns import (
    change_url,
    id_column,
    text_column,
    time_column,
)
from config.adminkit.display import ReadOnlyAdminMixin
from config.adminkit.estimates import EstimatedCountPaginator
from config.adminkit.window import FilterWindow, windowed


@admin.register(ConsumedRecord)
class ConsumedRecordAdmin(FilterWindow, ReadOnlyAdminMixin, admin.ModelAdmin[ConsumedRecord]):
    list_display = (
        id_column("key", "key", link=change_url),
        "event",
        id_column("record_id", "submission or batch", link=record_url),
        text_column("topic", "topic"),
        "partition",
        "offset",
        "rebuilt",
        time_column("consumed_at", "consumed"),
    )
    list_display_links = None  # the key links to the row, beside its copy button
    list_filter = (EventFilter, ("rebuilt", windowed(admin.BooleanFieldListFilter)))
    filter_window_order = ("-id",)
    filter_window_hint = "search a record key to find an older one"
    search_fields = ("=key",)  # as get_search_results reads them
    search_help_text = "A record key or a strategy or batch id, or their first characters."
    list_per_page = 100
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ConsumedRecord], search_term: str
    ) -> tuple[QuerySet[ConsumedRecord], bool]:
        return by_key(queryset, search_term), False


@admin.register(InvalidRecord)
class InvalidRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[InvalidRecord]):
    list_display = (
        "id",
        text_column("topic", "topic"),
        "partition",
        "offset",
        text_column("error", "error"),
        time_column("received_at", "received"),
    )
    list_filter = (TopicFilter,)
    search_fields = ("error",)
    fields = (
        "topic",
        "partition",
        "offset",
        "error",
        "received_at",
        "key_text",
        "key_kept",
        "headers",
        "value_kept",
        "value_text",
    )
    readonly_fields = fields

    @admin.display(description="key")
    def key_text(self, obj: InvalidRecord) -> str:
        return bytes(obj.key).decode("utf-8", errors="replace") if obj.key is not None else "-"

    @admin.display(description="key kept")
    def key_kept(self, obj: InvalidRecord) -> str:
        return kept_size(obj.key, obj.key_length)

    @admin.display(description="value kept")
    def value_kept(self, obj: InvalidRecord) -> str:
        kept = kept_size(obj.value, obj.value_length)
        return f"{kept}, sha256 {obj.value_sha256}" if obj.value_sha256 else kept

    @admin.display(description="value")
    def value_text(self, obj: InvalidRecord) -> SafeString:
        return decoded_value(obj.value, obj.value_length)


@admin.register(RecordConflict)
class RecordConflictAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[RecordConflict]):
    list_display = (
        id_column("key", "key", link=change_url),
        id_column("record_id", "submission or batch", link=record_url),
        text_column("reason", "reason"),
        text_column("topic", "topic"),
        "partition",
        "offset",
        time_column("detected_at", "detected"),
    )
    list_display_links = None  # the key links to the row, beside its copy button
    list_filter = (EventFilter, TopicFilter)
    search_fields = ("=key",)  # as get_search_results reads them
    search_help_text = "A record key or a strategy or batch id, or their first characters."
    fields = (
        "key",
        "record",
        "reason",
        "value_kept",
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
        return aggregate_link(obj.event, obj.record_id)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[RecordConflict], search_term: str
    ) -> tuple[QuerySet[RecordConflict], bool]:
        return by_key(queryset, search_term), False

    @admin.display(description="value kept")
    def value_kept(self, obj: RecordConflict) -> str:
        return f"{kept_size(obj.value, obj.value_length)}, sha256 {obj.value_sha256}"

    @admin.display(description="conflicting value (decoded)")
    def value_json(self, obj: RecordConflict) -> SafeString:
        return decoded_value(obj.value, obj.value_length)
