"""Columns for `list_display`, built from a field's name: each renders its cell with
config.adminkit.cells and keeps the field's name, so the list's CSS classes
(`field-<name>`, `column-<name>`) stay those of the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import Model
from django.urls import reverse
from django.utils.safestring import SafeString

from config.adminkit.cells import id_cell, text_cell, utc_cell, with_help

Column = Callable[[Any], Any]


def change_url(obj: Model) -> str:
    """The admin page of `obj` itself."""
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])


def _named(
    column: Column,
    name: str,
    header: str | SafeString,
    ordering: str | None,
    *,
    boolean: bool | None = None,
) -> Column:
    column.__name__ = name
    return admin.display(description=header, ordering=ordering, boolean=boolean)(column)


def plain_column(field: str, header: str, help_text: str, *, boolean: bool = False) -> Column:
    """A field as Django shows it, under a short header that explains itself in its tooltip."""

    def column(obj: Any) -> Any:
        return getattr(obj, field)

    return _named(column, field, with_help(header, help_text), field, boolean=boolean or None)


def id_column(
    field: str,
    header: str,
    *,
    link: Callable[[Any], str | None] | None = None,
    ordering: str | None = None,
) -> Column:
    """An id shortened, with a copy button; a link where `link` gives one (`change_url`
    for the row's own page: set the admin's list_display_links to None then)."""

    def column(obj: Any) -> SafeString:
        return id_cell(getattr(obj, field), link(obj) if link else None)

    return _named(column, field, header, ordering)


def text_column(field: str, header: str, *, ordering: str | None = None) -> Column:
    """Free text on one line, all of it in the tooltip."""

    def column(obj: Any) -> SafeString:
        value = getattr(obj, field)
        return text_cell(", ".join(value) if isinstance(value, list) else value)

    return _named(column, field, header, ordering)


def time_column(field: str, header: str) -> Column:
    """A time in UTC, the zone said once in the header."""

    def column(obj: Any) -> SafeString:
        return utc_cell(getattr(obj, field))

    return _named(column, field, f"{header} (UTC)", field)


def choice_column(model: type[Model], field: str, header: str) -> Column:
    """The stored value (`recorded`), each value's meaning in the header's tooltip."""
    choices = getattr(model._meta.get_field(field), "choices", None) or []
    meanings = "; ".join(str(label) for _, label in choices)

    def column(obj: Any) -> str:
        return str(getattr(obj, field))

    return _named(column, field, with_help(header, meanings), field)
