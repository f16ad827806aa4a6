"""Rows of a queryset as streamed CSV or JSON, read in keyset chunks: the same memory and
the same statement per chunk whatever the table's size, and no count.

A keyset chunk is `ORDER BY <order> LIMIT n` after the last row sent, never an OFFSET
(which reads every row it skips) nor a server-side cursor (which holds a transaction,
or materialises the whole result, for as long as the download lasts).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

CHUNK_ROWS = 2000
# A spreadsheet runs a cell that starts with one of these as a formula (and a tab or
# carriage return can hide it): such text cells are sent with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows_after(order: Sequence[str], last: Sequence[Any]) -> Q:
    """Rows after `last` in `order` (lexicographic; `-field` descending).

    The first field's bound comes first and on its own: the index on that field then
    starts its scan at the last row sent, where the OR of the full condition alone would
    be a filter on a scan from the first row (as an OFFSET costs)."""
    found = Q(pk__in=[])
    equal = Q()
    for name, value in zip(order, last, strict=True):
        field = name.lstrip("-")
        beyond = "lt" if name.startswith("-") else "gt"
        found |= equal & Q(**{f"{field}__{beyond}": value})
        equal &= Q(**{field: value})
    if len(order) == 1:
        return found
    first = order[0]
    bound = "lte" if first.startswith("-") else "gte"
    return Q(**{f"{first.lstrip('-')}__{bound}": last[0]}) & found


def keyset_rows(
    queryset: QuerySet[Any], fields: Sequence[str], order: Sequence[str], *, limit: int
) -> Iterator[tuple[Any, ...]]:
    """Up to `limit` rows of `fields`, in `order` (whose last field must be unique, the
    primary key), one chunk of CHUNK_ROWS at a time."""
    keys = [name.lstrip("-") for name in order]
    ordered = queryset.order_by(*order)
    last: tuple[Any, ...] | None = None
    sent = 0
    while sent < limit:
        page = ordered if last is None else ordered.filter(rows_after(order, last))
        size = min(CHUNK_ROWS, limit - sent)
        chunk = list(page.values_list(*fields, *keys)[:size])
        for row in chunk:
            yield row[: len(fields)]
        sent += len(chunk)
        if len(chunk) < size:
            return
        last = chunk[-1][len(fields) :]


def _plain(value: Any) -> Any:
    """A JSON-ready value: times in ISO 8601, ids and decimals as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def csv_cell(value: Any) -> str:
    """One CSV cell: text that a spreadsheet would read as a formula is defused."""
    if value is None:
        return ""
    plain = _plain(value)
    if isinstance(plain, list | dict):
        plain = json.dumps(plain, ensure_ascii=False)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if not isinstance(plain, str):
        return str(plain)
    return f"'{plain}" if plain.startswith(FORMULA_STARTS) else plain


class _Line:
    """csv.writer's file: hands back the line it was given."""

    def write(self, line: str) -> str:
        return line


# The writers are given one row past the limit, if there is one, to tell a list cut at
# the limit from one that ends there.


def csv_lines(header: Sequence[str], rows: Iterator[Sequence[Any]], *, limit: int) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    for row in islice(rows, limit):
        yield writer.writerow([csv_cell(value) for value in row])


def json_chunks(
    header: Sequence[str], rows: Iterator[Sequence[Any]], *, limit: int
) -> Iterator[str]:
    """`{"rows": [{...}, ...], "max_rows": n, "truncated": bool}`, a row at a time.
    `truncated` says the list stopped at `max_rows` with more rows left."""
    yield '{"rows": ['
    for count, row in enumerate(islice(rows, limit)):
        item = json.dumps(dict(zip(header, map(_plain, row), strict=True)), ensure_ascii=False)
        yield ("," if count else "") + "\n" + item
    truncated = next(rows, None) is not None
    yield f'\n], "max_rows": {limit}, "truncated": {json.dumps(truncated)}}}\n'
