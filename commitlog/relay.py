"""The relay: pending outbox rows -> one Kafka transaction per batch -> rows marked published.

Invariants (DESIGN.md): no DB transaction or row lock is held while talking to Kafka;
one relay at a time owns the transactional id (a PostgreSQL advisory lock held by this
connection, released with it if the process dies); rows are marked published only after
their Kafka transaction committed, so a crash in between republishes the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from commitlog.kafka import OutgoingRecord, Position, PublishError
from commitlog.models import OutboxEvent, OutboxState
from controlplane.services.lifecycle import Published, mark_published

logger = logging.getLogger(__name__)


class Writer(Protocol):
    def publish(self, records: list[OutgoingRecord]) -> list[Position]: ...


class WriterSource(Protocol):
    """Hands out the process's writer and throws it away when it is no longer usable."""

    def get(self) -> Writer: ...

    def discard(self) -> None: ...


@dataclass(frozen=True)
class RelayPolicy:
    batch_size: int = 1000
    max_attempts: int = 10
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    run_budget_s: float = 20.0

    @classmethod
    def from_settings(cls) -> RelayPolicy:
        return cls(
            batch_size=settings.RELAY_BATCH_SIZE,
            max_attempts=settings.RELAY_MAX_ATTEMPTS,
            backoff_base_s=settings.RELAY_BACKOFF_BASE_SECONDS,
            backoff_max_s=settings.RELAY_BACKOFF_MAX_SECONDS,
            run_budget_s=settings.RELAY_RUN_BUDGET_SECONDS,
        )

    def backoff(self, attempts: int) -> timedelta:
        """Exponential in the attempts so far, with jitter so failed rows do not retry in step."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, attempts - 1))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311


@dataclass
class RelayRun:
    skipped: str | None = None
    batches: int = 0
    published: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)  # seconds per published batch


@dataclass(frozen=True)
class _Row:
    id: int
    event: str
    aggregate_id: str
    key: str
    value: bytes
    attempts: int


def _lock_key(transactional_id: str) -> int:
    digest = hashlib.sha256(f"controlplane.relay:{transactional_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def relay_lock(transactional_id: str) -> Iterator[bool]:
    """Session advisory lock on this process's DB connection; yields whether we own it."""
    key = _lock_key(transactional_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        owned = bool(cursor.fetchone()[0])
    try:
        yield owned
    finally:
        if owned:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _claim(batch_size: int) -> list[_Row]:
    rows = (
        OutboxEvent.objects.filter(state=OutboxState.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("id")
        .values_list("id", "event", "aggregate_id", "key", "value", "attempts")[:batch_size]
    )
    return [_Row(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]


def _mark_published(rows: list[_Row], positions: list[Position]) -> None:
    now = timezone.now()
    values = ", ".join(["(%s, %s, %s)"] * len(rows))
    params: list[Any] = [now]
    for row, position in zip(rows, positions, strict=True):
        params += [row.id, position.partition, position.offset]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE commitlog_outboxevent AS o
            SET state = 'published', published_at = %s, last_error = '',
                published_partition = v.p, published_offset = v.o
            FROM (VALUES {values}) AS v(id, p, o)
            WHERE o.id = v.id AND o.state = 'pending'
            """,  # noqa: S608  (only placeholders are interpolated)
            params,
        )
        mark_published(
            (
                Published(row.event, row.aggregate_id, pos.partition, pos.offset)
                for row, pos in zip(rows, positions, strict=True)
            ),
            at=now,
        )


def _record_failures(rows: list[_Row], errors: dict[int, str], policy: RelayPolicy) -> int:
    """attempts + 1, next attempt after a backoff, dead past the limit; returns how many died."""
    now = timezone.now()
    updates: list[tuple[int, int, datetime, str, str]] = []
    for row in rows:
        if row.id not in errors:
            continue
        attempts = row.attempts + 1
        state = OutboxState.DEAD if attempts >= policy.max_attempts else OutboxState.PENDING
        updates.append((row.id, attempts, now + policy.backoff(attempts), state, errors[row.id]))
    if not updates:
        return 0
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(updates))
    params = [item for update in updates for item in update]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE commitlog_outboxevent AS o
            SET attempts = v.a, next_attempt_at = v.n, state = v.s, last_error = v.e
            FROM (VALUES {values}) AS v(id, a, n, s, e)
            WHERE o.id = v.id AND o.state = 'pending'
            """,  # noqa: S608  (only placeholders are interpolated)
            params,
        )
    dead = [u for u in updates if u[3] == OutboxState.DEAD]
    for row_id, attempts, _, _, error in dead:
        logger.error(
            "event=outbox_row_dead outbox_id=%s attempts=%s error=%s", row_id, attempts, error
        )
    return len(dead)


def _publish_batch(
    rows: list[_Row], writers: WriterSource, policy: RelayPolicy, run: RelayRun
) -> bool:
    """One Kafka transaction for the rows; False when the run should stop."""
    started = time.monotonic()
    records = [OutgoingRecord(row.key.encode(), row.value) for row in rows]
    try:
        positions = writers.get().publish(records)
    except PublishError as exc:
        if exc.needs_new_writer:
            writers.discard()
        if exc.fenced:
            # Another relay owns the transactional id now: not these rows' fault.
            logger.warning("event=relay_fenced rows=%d error=%s", len(rows), exc)
            run.errors.append(str(exc))
            return False
        if exc.failed_indexes:
            errors = {rows[i].id: message for i, message in exc.failed_indexes.items()}
        else:
            errors = {row.id: str(exc) for row in rows}
        run.failed += len(errors)
        run.dead += _record_failures(rows, errors, policy)
        run.errors.append(str(exc))
        logger.warning(
            "event=relay_batch_failed rows=%d first_id=%d failed=%d error=%s",
            len(rows),
            rows[0].id,
            len(errors),
            exc,
        )
        # Per-record refusals leave the rest retryable at once; a broker-wide failure stops.
        return bool(exc.failed_indexes)
    _mark_published(rows, positions)
    run.durations.append(time.monotonic() - started)
    run.batches += 1
    run.published += len(rows)
    logger.info(
        "event=relay_batch rows=%d first_id=%d last_id=%d duration_ms=%.1f",
        len(rows),
        rows[0].id,
        rows[-1].id,
        (time.monotonic() - started) * 1000,
    )
    return True


def relay_outbox(*, writers: WriterSource, policy: RelayPolicy | None = None) -> RelayRun:
    """Publish due pending rows in outbox order until none are left or the budget is spent."""
    policy = policy or RelayPolicy.from_settings()
    gateway = settings.GATEWAY
    run = RelayRun()
    if not gateway.writer_enabled:
        run.skipped = "writer disabled"
        return run
    with relay_lock(gateway.commitlog_transactional_id) as owned:
        if not owned:
            run.skipped = "another relay holds the lock"
            return run
        deadline = time.monotonic() + policy.run_budget_s
        while time.monotonic() < deadline:
            rows = _claim(policy.batch_size)
            if not rows or not _publish_batch(rows, writers, policy, run):
                break
    if run.published or run.failed:
        logger.info(
            "event=relay_run batches=%d published=%d failed=%d dead=%d",
            run.batches,
            run.published,
            run.failed,
            run.dead,
        )
    return run
