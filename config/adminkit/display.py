"""Small rendering helpers shared by the admin pages."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from django.http import HttpResponse, HttpResponseBase
from django.utils.html import format_html
from django.utils.safestring import SafeString

from config.visible import printable, visible

# The whitespace the admin's own markup is written with (Django writes a no-break space in
# some of its texts); every other unprintable character on a page came from stored text.
PAGE_KEEPS = "\t\n\r\xa0"


def pretty_json(value: Any) -> SafeString:
    """JSON indented in a <pre>, escaped, for read-only admin fields. JSON escapes the
    controls inside its strings; the format characters it leaves are escaped here."""
    text = visible(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False), keep="\n")
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


Response = TypeVar("Response", bound=HttpResponseBase)

# What a form posts back: an <input>'s or an <option>'s value attribute and a <textarea>'s
# body. Django writes its tags with double-quoted attributes and escapes `>` and `"` in
# them and `<` in a textarea's body, so these patterns find exactly those spans.
_WIDGET_VALUE = re.compile(
    r'<(?:input|option)\b[^>]*?\svalue="(?P<value>[^"]*)"'
    r"|<textarea\b[^>]*>(?P<body>.*?)</textarea",
    re.IGNORECASE | re.DOTALL,
)


def visible_markup(html: str) -> str:
    """`html` with every stored control or bidirectional character shown as its escape,
    but in the values a form posts back: those keep what was stored, so saving a form
    unchanged writes back what was read (the form's fields say what they hold beside
    their box: templates/admin/includes/fieldset.html)."""
    if printable(html, keep=PAGE_KEEPS):
        return html  # the common case: nothing to escape
    parts, end = [], 0
    for widget in _WIDGET_VALUE.finditer(html):
        start, stop = widget.span("value" if widget.group("value") is not None else "body")
        parts += [visible(html[end:start], keep=PAGE_KEEPS), html[start:stop]]
        end = stop
    parts.append(visible(html[end:], keep=PAGE_KEEPS))
    return "".join(parts)


def visible_page(response: Response) -> Response:
    """An admin page with stored control and bidirectional characters escaped wherever
    it writes them (visible_markup). The project's own cells, charts and templates escape
    what they write; this pass stays for what Django's and django-axes' templates write
    as stored: an object's name in titles, breadcrumbs, messages and recent actions,
    read-only fields, filters' choices, select options' labels, error messages."""
    if not isinstance(response, HttpResponse):
        return response  # a streamed or a file response: no page of stored text
    if not response.get("Content-Type", "").startswith("text/html"):
        return response
    charset = response.charset or "utf-8"
    text = response.content.decode(charset)
    shown = visible_markup(text)
    if shown is not text:
        response.content = shown.encode(charset)
    return response


class ReadOnlyAdminMixin:
    """Rows that mirror the commit log: operators look, services write."""

    class Media:
        css = {"all": ("adminkit/admin_lists.css",)}
        js = ("adminkit/copy.js",)

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
