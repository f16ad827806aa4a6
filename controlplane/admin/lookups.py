"""Admin filters and search for tables that keep their whole history.

Django's own field filters list their choices with a DISTINCT over the whole table, and
`search_fields` turn into `ILIKE '%term%'`: both read every row, on every page. Here the
choices come from the most recent rows only, and a search term becomes index lookups:
an id prefix (a range of the primary key), a hash prefix (a range of the unique index),
an exact world id.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from config.adminkit.filters import FieldValueFilter, closed_choices_filter
from controlplane.domain.compute_context import DowngradeReason

# How many of the latest rows the filters take their choices from.
RECENT_ROWS = 1000
_HEX = re.compile(r"^[0-9a-f]{1,64}$")
_UUID_PREFIX = re.compile(r"^[0-9a-f-]{1,36}$")


def _recent_values(model_admin: Any, request: HttpRequest, field: str) -> list[Any]:
    """`field` of the latest rows, newest first: read backwards along the submitted_at
    index, so as many rows whatever the table's size."""
    latest = model_admin.get_queryset(request).order_by("-submitted_at")
    return list(latest.values_list(field, flat=True)[:RECENT_ROWS])


def recent_values_filter(field: str, title: str) -> type[FieldValueFilter]:
    """A filter on `field` whose choices are the values among the latest rows."""

    class RecentValuesFilter(FieldValueFilter):
        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            values = sorted({str(v) for v in _recent_values(model_admin, request, field)})
            return [(v, v or "(blank)") for v in values]

    RecentValuesFilter.field = field
    RecentValuesFilter.parameter_name = field
    RecentValuesFilter.title = title
    return RecentValuesFilter


class WorldFilter(admin.SimpleListFilter):
    """Any of a submission's worlds, not only the first; choices from the latest rows."""

    title = "world"
    parameter_name = "world"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        worlds = {w for ids in _recent_values(model_admin, request, "world_ids") for w in ids}
        return [(world, world) for world in sorted(worlds)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(world_ids__contains=[value]) if value else queryset


# The reasons are a closed set: no query to list them.
DowngradeFilter = closed_choices_filter(
    "downgrade_reason", "downgrade reason", [reason.value for reason in DowngradeReason]
)


def uuid_prefix(term: str) -> Q | None:
    """Strategy ids starting with `term`, as a range of the primary key."""
    if not _UUID_PREFIX.match(term):
        return None
    digits = term.replace("-", "")
    if not digits or len(digits) > 32:
        return None
    low = uuid.UUID(digits.ljust(32, "0"))
    high = uuid.UUID(digits.ljust(32, "f"))
    return Q(pk__gte=low, pk__lte=high)


def hex_prefix(field: str, term: str) -> Q | None:
    """Hex digests starting with `term`: the range reaches the index, the prefix is exact."""
    if not _HEX.match(term):
        return None
    return Q(**{f"{field}__gte": term, f"{field}__lt": f"{term}g", f"{field}__startswith": term})


def indexed_search(queryset: QuerySet[Any], term: str, *alternatives: Q | None) -> QuerySet[Any]:
    term = term.strip()
    if not term:
        return queryset
    found = Q(pk__in=[])
    for alternative in alternatives:
        if alternative is not None:
            found |= alternative
    return queryset.filter(found)
