"""Filters on columns without an index, searched among the latest rows only.

`WHERE status = 'x' ORDER BY submitted_at DESC LIMIT 50` walks the index backwards until
it has found 50 rows: when few rows match, it reads the whole history, and so does the
count. Such a filter is marked `windowed(...)`: the list applies the other filters and
the search first, takes the latest ADMIN_FILTER_SCAN_ROWS of the rows they select (a bound
on the admin's `filter_window_order`, found by one index scan), and applies the windowed
filters within that window only. A date range among the other filters moves the window
back in time. Columns left unindexed on purpose (a status the relay and the consumer
update, which an index would keep from HOT updates) are searched this way.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import HttpRequest

from config.adminkit.export import rows_after
from config.adminkit.mixins import ModelAdminMixin


class WindowedFilter(admin.ListFilter):
    """A list filter searched among the latest rows only (see the module's docstring)."""

    # Set by the list: it applies the filter itself, after the window.
    deferred = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.queryset is not WindowedFilter.queryset:  # it would not wait for the window
            raise TypeError(f"{cls.__name__}: mark a filter with windowed(), do not subclass")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_admin = args[-1]  # the last of Django's positional arguments, for either kind
        if not isinstance(model_admin, FilterWindow):
            raise ImproperlyConfigured(
                f"{type(self).__name__} is windowed: {type(model_admin).__name__} needs "
                "config.adminkit.window.FilterWindow"
            )

    def chosen(self) -> bool:
        return bool(self.used_parameters)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        return queryset if self.deferred else self.apply(request, queryset)

    def apply(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        return super().queryset(request, queryset)


def windowed(filter_class: type[Any]) -> type[Any]:
    """`filter_class` (a SimpleListFilter or a FieldListFilter) searched among the latest
    rows only: for a column without an index."""
    return type(f"Windowed{filter_class.__name__}", (WindowedFilter, filter_class), {})


def window_rows() -> int:
    return int(settings.ADMIN_FILTER_SCAN_ROWS)


def latest_rows(queryset: QuerySet[Any], order: tuple[str, ...], rows: int) -> QuerySet[Any] | None:
    """The latest `rows` rows of `queryset` in `order` (newest first along an index, the
    last field unique), or None when it holds no more than that. The row just past them
    is one `OFFSET rows LIMIT 1` down the index; the window is what is newer."""
    keys = [name.lstrip("-") for name in order]
    past = list(queryset.order_by(*order).values_list(*keys)[rows : rows + 1])
    if not past:
        return None
    newest_last = tuple(name[1:] if name.startswith("-") else f"-{name}" for name in order)
    return queryset.filter(rows_after(newest_last, past[0]))


class FilterWindow(ModelAdminMixin):
    """For a ModelAdmin with windowed filters: `filter_window_order` is the newest-first
    order the window is taken in (along an index, ending in the primary key), and
    `filter_window_hint` tells the operator how to reach older rows."""

    filter_window_order: tuple[str, ...] = ("-pk",)
    filter_window_hint = "choose a date range to search older ones"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> Any:
        found = super().get_changelist(request, **kwargs)
        return type("WindowedChangeList", (WindowedChangeList, found), {})


class WindowedChangeList(ChangeList):
    """A ChangeList whose windowed filters apply within the latest rows the others select.
    `filter_window` is the window's size when it left rows out, else None, and
    `filter_window_note` what the page says then."""

    filter_window: int | None = None
    filter_window_note = ""

    def get_filters(self, request: HttpRequest) -> Any:
        found = super().get_filters(request)
        for spec in found[0]:
            if isinstance(spec, WindowedFilter):
                spec.deferred = True
        return found

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> Any:
        queryset = super().get_queryset(request, exclude_parameters)
        chosen = [
            spec
            for spec in self.filter_specs
            if isinstance(spec, WindowedFilter)
            and spec.chosen()
            and (exclude_parameters is None or spec.expected_parameters() != exclude_parameters)
        ]
        if not chosen:
            return queryset
        model_admin: Any = self.model_admin  # a FilterWindow (checked by the filters)
        rows = window_rows()
        window = latest_rows(queryset, model_admin.filter_window_order, rows)
        if window is not None:
            queryset = window
            if exclude_parameters is None:  # the list's own rows, not a facet's count
                self.filter_window = rows
                latest = "the latest row" if rows == 1 else f"the latest {rows:,} rows"
                self.filter_window_note = (
                    f"Filtered among {latest}; {model_admin.filter_window_hint}."
                )
        for spec in chosen:
            applied = spec.apply(request, queryset)
            queryset = applied if applied is not None else queryset
        return queryset
