"""Prefix search for the admin that an index answers, never a scan of the table."""

from __future__ import annotations

from django.db.models import Q

_LAST_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def _next_text(prefix: str) -> str | None:
    """The least text above every text that starts with `prefix` (code point order)."""
    bumped = ord(prefix[-1]) + 1
    if bumped in _SURROGATES:
        bumped = _SURROGATES.stop
    if bumped > _LAST_CODE_POINT:
        return _next_text(prefix[:-1]) if len(prefix) > 1 else None
    return prefix[:-1] + chr(bumped)


def text_prefix(field: str, prefix: str) -> Q:
    """Values of `field` that start with `prefix`: a range of the field's btree index
    (code point order, as the database's C collation sorts; a LIKE reaches a default
    index only under the plain "C" locale), narrowed by `LIKE 'prefix%'`, which is exact
    whatever the collation."""
    found = Q(**{f"{field}__gte": prefix, f"{field}__startswith": prefix})
    above = _next_text(prefix) if prefix else None
    return found & Q(**{f"{field}__lt": above}) if above is not None else found
