"""Small rendering helpers shared by the admin pages."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.http import HttpResponse, HttpResponseBase
from django.utils.html import format_html
from django.utils.safestring import SafeString

from config.visible import visible

# The whitespace the admin's own markup is written with (Django writes a no-break space in
# some of its texts); every other unprintable character on a page came from stored text.
PAGE_KEEPS = "\t\n\r\xa0"


def pretty_json(value: Any) -> SafeString:
    """JSON indented in a <pre>, escaped, for read-only admin fields. JSON escapes the
    controls inside its strings; the format characters it leaves are escaped here."""
    text = visible(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False), keep="\n")
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


Response = TypeVar("Response", bound=HttpResponseBase)


def visible_page(response: Response) -> Response:
    """An HTML page with every stored control or bidirectional character shown as its
    escape, wherever the page writes it: a list's cell, a detail page's field, a filter's
    choices, a title or a tooltip. The cells escape what they write already; this covers
    what Django and other pages write as it was stored."""
    if not isinstance(response, HttpResponse):
        return response  # a streamed or a file response: no page of stored text
    if not response.get("Content-Type", "").startswith("text/html"):
        return response
    charset = response.charset or "utf-8"
    text = response.content.decode(charset)
    shown = visible(text, keep=PAGE_KEEPS)
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
