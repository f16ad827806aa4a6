"""The list cells and the one rule for stored text (config.visible) as template filters,
for pages the admin's lists do not draw: the overview and the dashboard."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.safestring import SafeString

from config.adminkit import cells
from config.visible import visible

register = template.Library()


@register.filter(name="visible")
def visible_filter(value: object) -> str:
    """Stored text with its control and bidirectional characters escaped (then autoescaped)."""
    return visible(str(value))


@register.filter
def utc(value: datetime | None) -> SafeString:
    """A time as the lists show it: `12-07 14:03:22`, in UTC, the year in the tooltip."""
    return cells.utc_cell(value)


@register.filter
def short_id(value: object) -> SafeString:
    """An id as the lists show it: shortened, whole in the tooltip, with a copy button."""
    return cells.id_cell(value)
