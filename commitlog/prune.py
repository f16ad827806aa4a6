"""Retention: the log's bookkeeping older than the window goes, in short transactions.

Submissions and batches are the business record and stay. What goes, once older than
COMMITLOG_RETENTION_DAYS: outbox rows published and read back, dedup marks (a replay then
finds the domain row already recorded), invalid records, conflicts, and the positions of
consumer groups nobody runs any more. Never a pending, dead or unread outbox row.

Each table is walked in id order, the order its rows were written in, a bounded slice per
transaction: each slice deletes what in it may go and stops the walk at the first row of
the window. So a run costs what it deletes plus the few old rows that must stay, and
holds no lock longer than one slice; the relay, the consumer and the reconciler never
touch a row that may go, so they never wait on one.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# One statement per table: scan the next slice in id order, delete the rows of it that
# may go, and say how far it got. The outbox row's state and publishing time are checked
# again by the DELETE on a row that changed since the scan: a row the relay has just
# published (and listed as unread) or the reconciler put back to pending stays.
_SLICES = {
    "outbox rows": """
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
    """,
    "dedup marks": """
        WITH scan AS (
            SELECT id, consumed_at < %(cutoff)s AS old FROM commitlog_consumedrecord
            WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
        ), gone AS (
            DELETE FROM commitlog_consumedrecord AS c USING scan
            WHERE c.id = scan.id AND scan.old
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM gone), max(id), count(*), bool_and(old) FROM scan
    """,
    "invalid records": """
        WITH scan AS (
            SELECT id, received_at < %(cutoff)s AS old FROM commitlog_invalidrecord
            WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
        ), gone AS (
            DELETE FROM commitlog_invalidrecord AS r USING scan
            WHERE r.id = scan.id AND scan.old
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM gone), max(id), count(*), bool_and(old) FROM scan
    """,
    "conflicts": """
        WITH scan AS (
            SELECT id, detected_at < %(cutoff)s AS old FROM commitlog_recordconflict
            WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
        ), gone AS (
            DELETE FROM commitlog_recordconflict AS r USING scan
            WHERE r.id = scan.id AND scan.old
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM gone), max(id), count(*), bool_and(old) FROM scan
    """,
    "stale consumer positions": """
        WITH scan AS (
            SELECT id, updated_at < %(cutoff)s AS old FROM commitlog_consumerposition
            WHERE id > %(after)s ORDER BY id LIMIT %(limit)s
        ), gone AS (
            DELETE FROM commitlog_consumerposition AS p USING scan
            WHERE p.id = scan.id AND scan.old
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM gone), max(id), count(*), true FROM scan
    """,
}
# (The walk of consumer positions does not stop at a young row: they are few, and an old
# group's rows sit between live ones.)
_DRY_RUN = {
    "outbox rows": """
        SELECT count(*) FROM commitlog_outboxevent AS o
        WHERE state = 'published' AND published_at < %(cutoff)s AND created_at < %(cutoff)s
            AND NOT EXISTS (SELECT 1 FROM commitlog_unreadrecord AS u WHERE u.outbox_id = o.id)
    """,
    "dedup marks": """
        SELECT count(*) FROM commitlog_consumedrecord WHERE consumed_at < %(cutoff)s
    """,
    "invalid records": """
        SELECT count(*) FROM commitlog_invalidrecord WHERE received_at < %(cutoff)s
    """,
    "conflicts": """
        SELECT count(*) FROM commitlog_recordconflict WHERE detected_at < %(cutoff)s
    """,
    "stale consumer positions": """
        SELECT count(*) FROM commitlog_consumerposition WHERE updated_at < %(cutoff)s
    """,
}
TABLES = tuple(_SLICES)

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

    def summary(self) -> str:
        parts = " ".join(f"{name.replace(' ', '_')}={n}" for name, n in self.deleted.items())
        return (
            f"cutoff={self.cutoff.isoformat()} {parts} transactions={self.transactions} "
            f"longest_transaction_ms={self.longest_transaction_s * 1000:.1f} "
            f"finished={self.finished}"
        )


def retention_cutoff(days: float | None = None) -> datetime:
    window = settings.COMMITLOG_RETENTION_DAYS if days is None else days
    return timezone.now() - timedelta(days=window)


@contextmanager
def _prune_lock() -> Iterator[bool]:
    """One prune at a time (beat and an operator's command): a session advisory lock."""
    key = int.from_bytes(hashlib.sha256(b"controlplane.prune").digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        owned = bool(cursor.fetchone()[0])
    try:
        yield owned
    finally:
        if owned:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _prune_table(
    name: str, run: PruneRun, *, batch_size: int, deadline: float, progress: Progress | None
) -> None:
    after, deleted = 0, 0
    while True:
        if time.monotonic() >= deadline:
            run.finished = False
            break
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                _SLICES[name], {"cutoff": run.cutoff, "after": after, "limit": batch_size}
            )
            gone, last, scanned, all_old = cursor.fetchone()
        elapsed = time.perf_counter() - started
        run.transactions += 1
        run.transaction_s.append(elapsed)
        run.longest_transaction_s = max(run.longest_transaction_s, elapsed)
        deleted += gone
        if gone and progress:
            progress(name, deleted)
        if scanned < batch_size or not all_old:
            break
        after = last
    run.deleted[name] = deleted


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
    size = batch_size or settings.COMMITLOG_PRUNE_BATCH_SIZE
    deadline = time.monotonic() + (budget_s if budget_s is not None else float("inf"))
    if dry_run:
        with connection.cursor() as cursor:
            for name in TABLES:
                cursor.execute(_DRY_RUN[name], {"cutoff": run.cutoff})
                run.deleted[name] = int(cursor.fetchone()[0])
        return run
    with _prune_lock() as owned:
        if not owned:
            run.skipped = "another prune is running"
            return run
        for name in TABLES:
            _prune_table(name, run, batch_size=size, deadline=deadline, progress=progress)
    logger.info("event=commitlog_pruned %s", run.summary())
    return run
