"""Admin list filters that list their choices without a DISTINCT over the table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest


class FieldValueFilter(admin.SimpleListFilter):
    """Rows whose `field` equals the chosen value; subclasses say where the choices come
    from."""

    field = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        raise NotImplementedError

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{self.field: value}) if value is not None else queryset


def closed_choices_filter(
    field: str, title: str, values: Sequence[str] | Callable[[], Sequence[str]]
) -> type[FieldValueFilter]:
    """A filter on a field whose values are a closed set known here: no query to list them.
    `values` may be a callable, read when the page is drawn (registered events)."""

    class ClosedChoicesFilter(FieldValueFilter):
        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            found = values() if callable(values) else values
            return [(value, value) for value in found]

    ClosedChoicesFilter.field = field
    ClosedChoicesFilter.parameter_name = field
    ClosedChoicesFilter.title = title
    return ClosedChoicesFilter


def choice_queries(changelist: Any) -> dict[str, list[str]]:
    """The query string of every choice of every filter a changelist (the admin's
    ChangeList) offers, by the filter's title, in the order its sidebar lists them."""
    return {
        str(spec.title): [choice["query_string"] for choice in spec.choices(changelist)]
        for spec in changelist.filter_specs
    }
