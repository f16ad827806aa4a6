"""Statements that read a table's whole history, found in captured SQL: a DISTINCT (what a
field filter lists its choices with) or a COUNT(*) with no LIMIT under it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# The tables that keep their history: any statement over them must cost the same at any size.
HISTORY_TABLES = (
    "commitlog_outboxevent",
    "commitlog_consumedrecord",
    "controlplane_strategysubmission",
    "controlplane_rebalancebatch",
)
_DISTINCT = re.compile(r"\bSELECT\s+DISTINCT\b", re.IGNORECASE)
_COUNT = re.compile(r"\bCOUNT\s*\(", re.IGNORECASE)
_LIMIT = re.compile(r"\bLIMIT\s+\d+", re.IGNORECASE)


def _over(sql: str, tables: Iterable[str]) -> bool:
    return any(f'"{table}"' in sql or f" {table}" in sql for table in tables)


def history_reads(
    queries: Iterable[dict[str, Any]], tables: Iterable[str] = HISTORY_TABLES
) -> list[str]:
    """The captured statements (CaptureQueriesContext.captured_queries) that read every row:
    any SELECT DISTINCT, and a COUNT over one of `tables` with no LIMIT bounding it."""
    tables = tuple(tables)

    def unbounded_count(sql: str) -> bool:
        return bool(_COUNT.search(sql)) and _over(sql, tables) and not _LIMIT.search(sql)

    sqls = [query["sql"] for query in queries]
    return [sql for sql in sqls if _DISTINCT.search(sql) or unbounded_count(sql)]
