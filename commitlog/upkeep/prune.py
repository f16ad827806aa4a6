"""Retention: the log's bookkeeping older than the window goes, in short transactions.

Submissions and batches are the business record and stay. What goes, once older than
COMMITLOG_RETENTION_DAYS: outbox rows published and read back, dedup marks (a replay then
finds the domain row already recorded), invalid records, conflicts, the positions of
consumer groups nobody runs any more, and what other apps register (register_aged); the
dashboard's activity minutes after two days at most. Never a pending, dead or unread outbox row.

Each table is walked in id order, the order its rows were written in, a bounded slice per
transaction: each slice deletes what in it may go and stops the walk at the first row of
the window. So a run costs what it deletes plus the few old rows that must stay, and
holds no lock longer than one slice; the relay, the consumer and the reconciler never
touch a row that may go, so they never wait on one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from commitlog.conf import commitlog_settings
from commitlog.locks import advisory_lock
from commitlog.telemetry.activity import KEPT_AT_MOST

logger = logging.getLogger(__name__)

# The outbox's slice: scan the next rows in id order, delete those of them that may go,
# and say how far it got. The row's state and publishing time are checked again by the
# DELETE on a row that changed since the scan: a row the relay has just published (and
# listed as unread) or the reconciler put back to pending stays.
_OUTBOX_SLICE = """
    WITH scan AS (
        SELECT id, created_at < %(cutoff)s AS old FROM commitlog_outboxevent
        WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
    ), gone AS (
        DELETE FROM commitlog_outboxevent AS o USING scan
        WHERE o.id = scan.id AND scan.old AND o.state = 'published'
            AND o.published_at < %(cutoff)s
            AND NOT EXISTS (SELECT 1 FROM commitlog_unreadrecord AS u WHERE u.outbox_id = o.id)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone), max(id), count(*), bool_and(old) FROM scan
"""
_OUTBOX_DRY_RUN = """
    SELECT count(*) FROM commitlog_outboxevent AS o
    WHERE state = 'published' AND published_at < %(cutoff)s AND created_at < %(cutoff)s
        AND NOT EXISTS (SELECT 1 FROM commitlog_unreadrecord AS u WHERE u.outbox_id = o.id)
"""


@dataclass(frozen=True)
class AgedTable:
    """A table whose every row goes once its time column is past the cutoff; never before
    `kept_at_least`, and always after `kept_at_most` (if set), whatever the window."""

    table: str
    column: str
    kept_at_least: timedelta = timedelta(0)
    kept_at_most: timedelta | None = None


_AGED = {
    "dedup marks": AgedTable("commitlog_consumedrecord", "consumed_at"),
    "invalid records": AgedTable("commitlog_invalidrecord", "received_at"),
    "conflicts": AgedTable("commitlog_recordconflict", "detected_at"),
    # The dashboard's history: a bounded window, whatever the log's retention.
    "activity minutes": AgedTable("commitlog_activityminute", "minute", kept_at_most=KEPT_AT_MOST),
}


# The slice and the count of an aged table, its names quoted in by psycopg (they come from
# the registry, not from this module).
_AGED_SLICE = """
    WITH scan AS (
        SELECT id, {column} < %(cutoff)s AS old FROM {table}
        WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
    ), gone AS (
        DELETE FROM {table} AS t USING scan WHERE t.id = scan.id AND scan.old
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone), max(id), count(*), bool_and(old) FROM scan
"""
_AGED_DRY_RUN = "SELECT count(*) FROM {table} WHERE {column} < %(cutoff)s"


def register_aged(name: str, aged: AgedTable) -> None:
    """Another app's bookkeeping pruned with the log's (its table and time column are
    constants of that app, never input)."""
    _AGED[name] = aged


def tables() -> tuple[str, ...]:
    return ("outbox rows", *_AGED, "stale consumer positions")


# Few rows, and an old group's sit between live ones: one statement, no walk.
_POSITIONS = "DELETE FROM commitlog_consumerposition WHERE updated_at < %(cutoff)s"
_POSITIONS_DRY_RUN = "SELECT count(*) FROM commitlog_consumerposition WHERE updated_at < %(cutoff)s"

Progress = Callable[[str, int], None]


@dataclass
class PruneRun:
    cutoff: datetime
    dry_run: bool = False
    skipped: str | None = None
    deleted: dict[str, int] = field(default_factory=dict)
    transactions: int = 0
    longest_transaction_s: float = 0.0
    transaction_s: list[float] = field(default_factory=list)  # each slice's, in order
    finished: bool = True  # False when the time budget ran out first

    @property
    def total(self) -> int:
        return sum(self.deleted.values())

    def log_fields(self) -> tuple[str, tuple[object, ...]]:
        """The run as key=value fields: a format of constant keys and its values, so that
        each value is one field of the log line (the formatter quotes each on its own)."""
        keys = ["cutoff=%s", *(f"{name.replace(' ', '_')}=%d" for name in self.deleted)]
        keys += ["transactions=%d", "longest_transaction_ms=%.1f", "finished=%s"]
        values = (self.cutoff.isoformat(), *self.deleted.values(), self.transactions,
                  self.longest_transaction_s * 1000, self.finished)  # fmt: skip
        return " ".join(keys), values

    def summary(self) -> str:
        text, values = self.log_fields()
        return text % values


def retention_cutoff(days: float | None = None) -> datetime:
    window = commitlog_settings().commitlog_retention_days if days is None else days
    return timezone.now() - timedelta(days=window)


def _slice(cursor: Any, name: str, params: dict[str, Any]) -> tuple[int, int, int, bool]:
    """One slice of a walked table: (deleted, last id scanned, rows scanned, all old)."""
    if name == "outbox rows":
        cursor.execute(_OUTBOX_SLICE, params)
    else:
        aged = _AGED[name]
        cursor.execute(
            sql.SQL(_AGED_SLICE).format(
                table=sql.Identifier(aged.table), column=sql.Identifier(aged.column)
            ),
            params,
        )
    gone, last, scanned, all_old = cursor.fetchone()
    return int(gone), int(last or 0), int(scanned), bool(all_old)


def _prune_table(
    name: str, run: PruneRun, *, batch_size: int, deadline: float, progress: Progress | None
) -> None:
    after, deleted = 0, 0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if name == "stale consumer positions":
                cursor.execute(_POSITIONS, {"cutoff": run.cutoff})
                gone, scanned, all_old = cursor.rowcount, 0, False
            else:
                params = {"cutoff": _cutoff(name, run), "after": after, "limit": batch_size}
                gone, after, scanned, all_old = _slice(cursor, name, params)
        elapsed = time.perf_counter() - started
        run.transactions += 1
        run.transaction_s.append(elapsed)
        run.longest_transaction_s = max(run.longest_transaction_s, elapsed)
        deleted += gone
        if gone and progress:
            progress(name, deleted)
        if scanned < batch_size or not all_old:
            break
    else:
        run.finished = False
    run.deleted[name] = deleted


def _cutoff(name: str, run: PruneRun) -> datetime:
    aged = _AGED.get(name)
    if aged is None:
        return run.cutoff
    cutoff = run.cutoff
    if aged.kept_at_most is not None:
        cutoff = max(cutoff, timezone.now() - aged.kept_at_most)
    if aged.kept_at_least:
        cutoff = min(cutoff, timezone.now() - aged.kept_at_least)
    return cutoff


def _dry_run(run: PruneRun) -> None:
    with connection.cursor() as cursor:
        for name in tables():
            params = {"cutoff": _cutoff(name, run)}
            if name == "outbox rows":
                cursor.execute(_OUTBOX_DRY_RUN, params)
            elif name == "stale consumer positions":
                cursor.execute(_POSITIONS_DRY_RUN, params)
            else:
                aged = _AGED[name]
                cursor.execute(
                    sql.SQL(_AGED_DRY_RUN).format(
                        table=sql.Identifier(aged.table), column=sql.Identifier(aged.column)
                    ),
                    params,
                )
            run.deleted[name] = int(cursor.fetchone()[0])


def commitlog_prune(
    *,
    days: float | None = None,
    dry_run: bool = False,
    batch_size: int | None = None,
    budget_s: float | None = None,
    progress: Progress | None = None,
) -> PruneRun:
    """Delete the log's bookkeeping older than the retention window, slice by slice.

    `dry_run` counts what would go instead (one count per table, no delete). `budget_s`
    stops the run between slices; the next run goes on from the start of each table.
    """
    run = PruneRun(cutoff=retention_cutoff(days), dry_run=dry_run)
    size = batch_size or commitlog_settings().commitlog_prune_batch_size
    deadline = time.monotonic() + (budget_s if budget_s is not None else float("inf"))
    if dry_run:
        _dry_run(run)
        return run
    # One prune at a time (beat and an operator's command).
    with advisory_lock("controlplane.prune") as owned:
        if not owned:
            run.skipped = "another prune is running"
            return run
        for name in tables():
            _prune_table(name, run, batch_size=size, deadline=deadline, progress=progress)
    # A run that found nothing to do says so only at DEBUG: beat runs it all day.
    quiet = not run.total and run.finished
    fields, values = run.log_fields()
    level = logging.DEBUG if quiet else logging.INFO
    logger.log(level, f"event=commitlog_pruned {fields}", *values)
    return run
