"""The cells of the admin's lists, one line each: ids shortened with the whole id in a
tooltip and a copy button (adminkit/copy.js), times in UTC without the year, free text cut
by the stylesheet with all of it in the tooltip. Every stored text goes through
config.visible first."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils.html import format_html
from django.utils.safestring import SafeString

from config.visible import visible

HEAD, TAIL = 8, 4  # characters kept at either end of a shortened id
ELLIPSIS = "…"
EMPTY = "-"


def short_id(text: str) -> str:
    """`text` as it reads in a list: its first and last characters around an ellipsis.
    Each end is made visible on its own, so an escape is never cut in two."""
    if len(text) <= HEAD + TAIL + 2:
        return visible(text)
    return visible(text[:HEAD]) + ELLIPSIS + visible(text[-TAIL:])


def id_cell(value: object, url: str | None = None) -> SafeString:
    """A shortened id (a link when `url` is given), its whole in the tooltip, and a button
    that copies the whole (as shown: escaped)."""
    if value is None or value == "":
        return format_html("{}", EMPTY)
    full = visible(str(value))
    shown = short_id(str(value))
    tag = (
        format_html('<a class="cp-id" href="{}" title="{}">{}</a>', url, full, shown)
        if url
        else format_html('<span class="cp-id" title="{}">{}</span>', full, shown)
    )
    return format_html(
        '<span class="cp-idcell">{}<button type="button" class="cp-copy" data-copy="{}" '
        'title="Copy the whole id" aria-label="Copy {}">⧉</button></span>',
        tag,
        full,
        full,
    )


def text_cell(value: object) -> SafeString:
    """Free text on one line, cut to the column by the stylesheet, all of it in the tooltip."""
    if value is None or value == "":
        return format_html("{}", EMPTY)
    full = visible(str(value))
    return format_html('<span class="cp-text" title="{}">{}</span>', full, full)


def utc_cell(at: datetime | None) -> SafeString:
    """`12-07 14:03:22`: the zone is in the column's header, the year in the tooltip."""
    if at is None:
        return format_html("{}", EMPTY)
    utc = at.astimezone(UTC)
    return format_html(
        '<time class="cp-time" datetime="{}" title="{}">{}</time>',
        utc.isoformat(),
        utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
        utc.strftime("%m-%d %H:%M:%S"),
    )


def with_help(header: str, help_text: str) -> SafeString:
    """A column's header with its explanation as the header's tooltip (once, not per row)."""
    return format_html('<span class="cp-help" title="{}">{}</span>', help_text, header)
