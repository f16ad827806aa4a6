"""The outbox rows' admin: the list, requeue of dead rows, republish, export."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from commitlog.admin.common import (
    EventFilter,
    LastErrorFilter,
    aggregate_link,
    aggregate_url,
    by_key,
)
from commitlog.models import (
    OutboxEvent,
    OutboxState,
)
from commitlog.outbox.republish import REPUBLISH_MAX_ROWS, TooManyToRepublish, outbox_republish
from commitlog.outbox.write import outbox_requeue_dead
from commitlog.record_display import decoded_value
from config.adminkit.cells import utc_cell
from config.adminkit.columns import (
    choice_column,
    id_column,
    plain_column,
    text_column,
    time_column,
)
from config.adminkit.display import ReadOnlyAdminMixin
from config.adminkit.estimates import EstimatedCountPaginator
from config.adminkit.export_admin import ExportMixin
from config.adminkit.window import FilterWindow

# A row's delivery, in the order the detail page and the export both show it.
_DELIVERY_FIELDS = (
    "state",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "published_at",
    "published_partition",
    "published_offset",
)


@admin.register(OutboxEvent)
class OutboxEventAdmin(
    ExportMixin, FilterWindow, ReadOnlyAdminMixin, admin.ModelAdmin[OutboxEvent]
):
    list_display = (
        "id",
        "event_name",
        id_column("aggregate_id", "submission or batch", link=aggregate_url),
        choice_column(OutboxEvent, "state", "state"),
        plain_column("attempts", "tries", "Failed publish attempts"),
        text_column("last_error", "last error"),
        "retry_at",
        time_column("created_at", "created"),
        time_column("published_at", "published"),
        "position",
    )
    list_filter = ("state", EventFilter, LastErrorFilter)
    filter_window_order = ("-id",)
    # Pending and dead rows are in partial indexes: the state filter searches all of them.
    filter_window_hint = "choose a state (pending, dead) to search all rows in it"
    search_fields = ("=id", "=key")  # as get_search_results reads them
    search_help_text = (
        "An outbox id, or a record key or a strategy or batch id, or their first characters."
    )
    list_per_page = 100
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # The page links the aggregate and shows the value; the export has the bare id, no value.
    fields = ("id", "event", "aggregate", "key", *_DELIVERY_FIELDS, "value_json")
    readonly_fields = fields
    actions = ("requeue_dead", "republish")
    export_fields = ("id", "event", "aggregate_id", "key", *_DELIVERY_FIELDS)
    export_order = ("id",)  # the outbox order

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OutboxEvent], search_term: str
    ) -> tuple[QuerySet[OutboxEvent], bool]:
        return by_key(queryset, search_term), False

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

    @admin.display(description="retry (UTC)", ordering="next_attempt_at")
    def retry_at(self, obj: OutboxEvent) -> SafeString:
        # Only a pending row that failed waits for a time; any other row's is stale.
        waiting = obj.state == OutboxState.PENDING and obj.attempts > 0
        return utc_cell(obj.next_attempt_at if waiting else None)

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
        return aggregate_link(obj.event, obj.aggregate_id)

    @admin.display(description="value (decoded)")
    def value_json(self, obj: OutboxEvent) -> SafeString:
        return decoded_value(obj.value)
