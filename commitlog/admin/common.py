"""What the commit log's admin pages share: links to the rows of the owning domain,
search by record key, the list filters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from commitlog.conf import commitlog_settings
from commitlog.models import (
    ConsumedRecord,
    OutboxEvent,
    RecordConflict,
)
from commitlog.records import record_key
from commitlog.registry import admin_url, registered_events
from config.adminkit.filters import closed_choices_filter
from config.adminkit.search import text_prefix
from config.adminkit.window import windowed


def aggregate_url(obj: OutboxEvent) -> str | None:
    return admin_url(obj.event, obj.aggregate_id)


def record_url(obj: ConsumedRecord | RecordConflict) -> str | None:
    return admin_url(obj.event, obj.record_id)


def aggregate_link(event: str, aggregate_id: str) -> SafeString:
    """A link to the aggregate's own admin page, which its event's handler names."""
    url = admin_url(event, aggregate_id)
    if url is None:
        return format_html("{}", aggregate_id)
    return format_html('<a href="{}">{}</a>', url, aggregate_id)


def by_key(queryset: QuerySet[Any], search_term: str) -> QuerySet[Any]:
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


class _LastError(admin.SimpleListFilter):
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


# Windowed: `last_error` has no index (config.adminkit.window).
LastErrorFilter = windowed(_LastError)
