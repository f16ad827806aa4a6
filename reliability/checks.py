"""What the campaign checks, read straight from the database (not from the consumer's own
bookkeeping): which ids are recorded, which were recorded twice (the audit trigger of
reliability.stack), which rebalance requests were written more than once, and how much
work is still on its way."""

from __future__ import annotations

from typing import LiteralString

import psycopg


def recorded_ids(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT strategy_id::text FROM controlplane_strategysubmission"
            " WHERE status = 'recorded' UNION ALL"
            " SELECT batch_id FROM controlplane_rebalancebatch WHERE status = 'recorded'"
        )
        return {row[0] for row in rows}


def applied_twice(database_url: str) -> int:
    return _count(
        database_url,
        "SELECT count(*) FROM (SELECT aggregate_id FROM fault_apply_audit"
        " GROUP BY aggregate_id HAVING count(*) > 1) AS t",
    )


def duplicate_batches(database_url: str) -> int:
    """Batches beyond the first of each (request, world): each load request's orders carry
    its own tag, so a request written twice shows as two batches of one world and tag."""
    return _count(
        database_url,
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n"
        " FROM controlplane_rebalancebatch GROUP BY world_id, orders->0->>'request'"
        " HAVING count(*) > 1) AS t",
    )


def unrecorded(database_url: str) -> int:
    """Submissions and batches not yet recorded: the pipeline's backlog."""
    return _count(
        database_url,
        "SELECT (SELECT count(*) FROM controlplane_strategysubmission"
        " WHERE status <> 'recorded')"
        " + (SELECT count(*) FROM controlplane_rebalancebatch WHERE status <> 'recorded')",
    )


def _count(database_url: str, query: LiteralString) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
