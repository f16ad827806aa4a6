"""State moves of submissions and batches driven by the commit log: published, recorded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from commitlog.records import Event

_TABLES = {
    Event.INGEST.value: ("controlplane_strategysubmission", "strategy_id", "uuid"),
    Event.REBALANCE.value: ("controlplane_rebalancebatch", "batch_id", "text"),
}


@dataclass(frozen=True)
class Published:
    event: str
    aggregate_id: str
    partition: int
    offset: int


def mark_published(rows: Iterable[Published], *, at: datetime) -> None:
    """accepted -> published, with the Kafka position; never moves a recorded row back.

    Runs inside the caller's transaction (the one that marks the outbox rows).
    """
    by_event: dict[str, list[Published]] = {}
    for row in rows:
        by_event.setdefault(row.event, []).append(row)
    with connection.cursor() as cursor:
        for event, items in by_event.items():
            table, key, key_type = _TABLES[event]
            values = ", ".join(["(%s, %s, %s)"] * len(items))
            params: list[Any] = []
            for item in items:
                params += [item.aggregate_id, item.partition, item.offset]
            # Table and column names come from the constant map above, never from input.
            cursor.execute(
                f"""
                UPDATE {table} AS t
                SET status = CASE WHEN t.status = 'accepted' THEN 'published' ELSE t.status END,
                    published_at = COALESCE(t.published_at, %s),
                    commitlog_partition = COALESCE(t.commitlog_partition, v.p),
                    commitlog_offset = COALESCE(t.commitlog_offset, v.o)
                FROM (VALUES {values}) AS v(id, p, o)
                WHERE t.{key} = v.id::{key_type}
                """,  # noqa: S608
                [at, *params],
            )
