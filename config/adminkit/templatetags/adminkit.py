"""The list cells and the one rule for stored text (config.visible) as template filters,
for pages the admin's lists do not draw: the overview, the dashboard and the edit forms'
notes beside a box whose stored value does not print."""

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
def unprintable(value: object) -> str:
    """A form field's value as `visible` shows it when it holds a character that does not
    print (a list's items joined by `, `); empty when every character prints."""
    items = value if isinstance(value, list | tuple) else [value]
    texts = [item for item in items if isinstance(item, str)]
    shown = [visible(text) for text in texts]
    return ", ".join(shown) if shown != texts else ""


@register.filter
def utc(value: datetime | None) -> SafeString:
    """A time as the lists show it: `12-07 14:03:22`, in UTC, the year in the tooltip."""
    return cells.utc_cell(value)


@register.filter
def short_id(value: object) -> SafeString:
    """An id as the lists show it: shortened, whole in the tooltip, with a copy button."""
    return cells.id_cell(value)
