"""Row counts that cost the same at any table size: the planner's estimate of a big result,
an exact COUNT(*) of a small one.

An exact count reads every row it counts, so on a table that keeps its history (the
submissions) it grows without bound. The planner's estimate comes from the statistics
autovacuum keeps (reltuples, scaled to the table's current size) and costs one EXPLAIN.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet

# Below this many estimated rows a count is exact: cheap there, and small numbers are the
# ones a reader compares one by one.
EXACT_BELOW = 10_000


def planner_estimate(queryset: QuerySet[Any]) -> int:
    """The rows PostgreSQL's planner expects the query to return (no row is read)."""
    plan = json.loads(queryset.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def counted(queryset: QuerySet[Any]) -> tuple[int, bool]:
    """COUNT(*) when the planner expects few rows, else its estimate; and which it is.

    The exact count reads at most EXACT_BELOW rows (a LIMIT under it): statistics from
    before a bulk load may expect few rows of a table that holds many."""
    estimate = planner_estimate(queryset)
    if estimate >= EXACT_BELOW:
        return estimate, True
    exact = queryset.order_by()[:EXACT_BELOW].count()
    return (exact, False) if exact < EXACT_BELOW else (max(estimate, exact), True)


def row_count(queryset: QuerySet[Any]) -> int:
    return counted(queryset)[0]


class EstimatedCountPaginator(Paginator):  # type: ignore[type-arg]
    """The admin's paginator for tables that keep their history: no full COUNT(*) per page."""

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            return row_count(object_list)
        return len(object_list)
