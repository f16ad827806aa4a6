"""Bases for ModelAdmin mixins: typed as a ModelAdmin, a plain class at run time (the
ModelAdmin comes later in the admin's bases), and read-only fields a mixin adds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

if TYPE_CHECKING:
    ModelAdminMixin = admin.ModelAdmin[Any]
else:
    ModelAdminMixin = object


class AddedReadonlyFields(ModelAdminMixin):
    """Read-only fields mixins add to a change page, each placed before a field of the
    admin's own (or last): the admin's `fields` stay as it declares them."""

    def added_fields(self, request: HttpRequest, obj: Any) -> list[tuple[str, str | None]]:
        """(field, the field it goes before) pairs; mixins extend super()'s."""
        return []

    def _with_added(self, fields: Sequence[Any], request: HttpRequest, obj: Any) -> tuple[Any, ...]:
        found = list(fields)
        for name, before in self.added_fields(request, obj):
            found.insert(found.index(before) if before in found else len(found), name)
        return tuple(found)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._with_added(super().get_fields(request, obj), request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._with_added(super().get_readonly_fields(request, obj), request, obj)
