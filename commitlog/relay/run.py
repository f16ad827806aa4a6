"""The relay: pending outbox rows -> one Kafka transaction per batch -> rows marked published.

Invariants (docs/ARCHITECTURE.md, "The invariants"): no DB transaction or row lock is held
while talking to Kafka; one relay at a time owns the transactional id (a PostgreSQL advisory
lock held by this connection, released with it if the process dies); rows are marked
published only after their Kafka transaction committed, so a crash in between republishes
the same bytes.

Kafka calls run on a helper thread so that the database work of the neighbouring batches
(marking the one before, claiming the one after) overlaps them; see `_relay_batches`. A
mark's short transaction may run while that thread waits on the broker, but no database
transaction is ever held open across a Kafka call.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from django.db import DatabaseError, connection

from commitlog.conf import commitlog_settings
from commitlog.kafka import OutgoingRecord, Position, PublishError
from commitlog.locks import advisory_lock
from commitlog.relay.policy import RelayPolicy
from commitlog.relay.store import Row, claim, claim_more, mark_rows_published, record_failures
from commitlog.signing import record_signer
from commitlog.telemetry.activity import relay_activity_save

logger = logging.getLogger(__name__)


class Writer(Protocol):
    def publish(self, records: list[OutgoingRecord]) -> list[Position]: ...


class WriterSource(Protocol):
    """Hands out the process's writer and throws it away when it is no longer usable."""

    def get(self) -> Writer: ...

    def discard(self) -> None: ...


@dataclass
class RelayRun:
    skipped: str | None = None
    batches: int = 0
    published: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)  # seconds per published batch
    published_by_event: Counter[str] = field(default_factory=Counter)


def relay_lock(transactional_id: str) -> AbstractContextManager[bool]:
    """Session advisory lock on this process's DB connection; yields whether we own it."""
    return advisory_lock(f"controlplane.relay:{transactional_id}")


def _failed_batch(
    rows: list[Row], exc: PublishError, writers: WriterSource, policy: RelayPolicy, run: RelayRun
) -> bool:
    """Account for a batch whose transaction did not commit; False when the run should stop."""
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
    run.dead += record_failures(
        rows, errors, max_attempts=policy.max_attempts, backoff=policy.backoff
    )
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


@dataclass(frozen=True)
class _Committed:
    """A batch whose Kafka transaction committed and whose rows are not marked yet."""

    rows: list[Row]
    positions: list[Position]
    started: float


def _mark_committed(batch: _Committed, run: RelayRun) -> None:
    mark_rows_published(batch.rows, batch.positions)
    run.durations.append(time.monotonic() - batch.started)
    run.batches += 1
    run.published += len(batch.rows)
    run.published_by_event.update(row.event for row in batch.rows)
    logger.info(
        "event=relay_batch rows=%d first_id=%d last_id=%d duration_ms=%.1f",
        len(batch.rows),
        batch.rows[0].id,
        batch.rows[-1].id,
        (time.monotonic() - batch.started) * 1000,
    )


def _publish(writer: Writer, rows: list[Row]) -> list[Position]:
    signer = record_signer()
    records = []
    for row in rows:
        key = row.key.encode()
        headers = signer.headers(key, row.value) if signer is not None else None
        records.append(OutgoingRecord(key, row.value, headers))
    return writer.publish(records)


def _relay_batches(
    first: list[Row],
    writers: WriterSource,
    policy: RelayPolicy,
    run: RelayRun,
    deadline: float,
    kafka: ThreadPoolExecutor,
    claimer: ThreadPoolExecutor | None,
) -> None:
    """Publish batch after batch, one Kafka transaction at a time and in outbox order.

    While batch N is in Kafka's hands (on the `kafka` thread), this thread marks batch
    N-1, which has committed, and batch N+1 is claimed: on the `claimer` thread, over its
    own connection, at the same time as the mark, or here after the mark when there is no
    claimer. The database and the broker work at the same time instead of in turn. Rows
    are still marked only after their own commit, and no database transaction is open
    across a Kafka call.
    """
    rows = first
    committed: _Committed | None = None
    while rows:
        started = time.monotonic()
        in_flight = kafka.submit(_publish, writers.get(), rows)
        more = time.monotonic() < deadline
        claiming = None
        if more and claimer is not None:
            # The claim may read before batch N-1's mark commits: leave that batch out too.
            skip = [row.id for row in rows]
            if committed is not None:
                skip += [row.id for row in committed.rows]
            claiming = claimer.submit(claim, policy.batch_size, skip=skip)
        if committed is not None:
            _mark_committed(committed, run)
            committed = None
        upcoming = _claimed_elsewhere(claiming) if claiming is not None else None
        if upcoming is None:
            if claiming is not None:
                claimer = None  # its connection failed: claim here for the rest of the run
            # Batch N-1 is marked by now: only batch N is still to be left out.
            upcoming = claim(policy.batch_size, skip=[row.id for row in rows]) if more else []
        try:
            positions = in_flight.result()
        except PublishError as exc:
            if not _failed_batch(rows, exc, writers, policy, run):
                return
            # Rows of this batch that the broker did not blame are due again at once, and
            # come before `upcoming` in outbox order.
            rows = claim(policy.batch_size) if time.monotonic() < deadline else []
            continue
        committed = _Committed(rows, positions, started)
        if len(upcoming) < policy.batch_size and time.monotonic() < deadline:
            # `upcoming` was claimed as this batch started: rows committed during its
            # transaction join the next one instead of waiting a transaction more, or for
            # the next nudge when that claim found none. A drain's batches are full.
            upcoming = claim_more(upcoming, policy.batch_size, in_flight=rows)
        rows = upcoming
    if committed is not None:
        _mark_committed(committed, run)


def _claimed_elsewhere(claiming: Future[list[Row]]) -> list[Row] | None:
    """The claiming thread's rows; None when its connection failed, so that the batch
    in Kafka's hands can still be marked once it commits."""
    try:
        return claiming.result()
    except DatabaseError as exc:
        logger.warning("event=relay_claim_failed error=%s", str(exc).strip() or type(exc).__name__)
        return None


def _close_this_threads_connection() -> None:
    connection.close()  # Django's connections are per thread: this is the caller's own


@contextmanager
def _claimer(wanted: bool) -> Iterator[ThreadPoolExecutor | None]:
    """A thread that claims with its own connection, closed when the run ends.

    Only for a run that starts with a full batch: a connection costs a few milliseconds
    to open, which a nudged run of a handful of rows would feel and a drain does not.
    Never inside a caller's transaction: the marks would not be committed, and another
    connection would see every earlier batch as still pending.
    """
    if not wanted or connection.in_atomic_block:
        yield None
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-claim") as claimer:
        try:
            yield claimer
        finally:
            claimer.submit(_close_this_threads_connection).result()


def _save_activity(run: RelayRun) -> None:
    """The run's minute of history, with the backlog it leaves; idle runs too, so that a
    backlog waiting on its backoff shows. Never worth failing the run for."""
    try:
        relay_activity_save(
            published=run.published_by_event, batches=run.batches, failed=run.failed, dead=run.dead
        )
    except DatabaseError as exc:
        logger.warning("event=relay_activity_not_saved error=%s", str(exc).strip())


@functools.cache
def _say_writer_disabled_once() -> None:
    # Beat runs the relay every few seconds: once per process is enough to be seen.
    logger.warning("event=relay_skipped reason=writer_disabled effect=outbox_rows_stay_pending")


def relay_outbox(*, writers: WriterSource, policy: RelayPolicy | None = None) -> RelayRun:
    """Publish due pending rows in outbox order until none are left or the budget is spent."""
    policy = policy or RelayPolicy.from_settings()
    gateway = commitlog_settings()
    run = RelayRun()
    if not gateway.writer_enabled:
        run.skipped = "writer disabled"
        _say_writer_disabled_once()
        return run
    with relay_lock(gateway.commitlog_transactional_id) as owned:
        if not owned:
            run.skipped = "another relay holds the lock"
            return run
        deadline = time.monotonic() + policy.run_budget_s
        rows = claim(policy.batch_size)
        if rows:
            with (
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-kafka") as kafka,
                _claimer(len(rows) == policy.batch_size) as claimer,
            ):
                _relay_batches(rows, writers, policy, run, deadline, kafka, claimer)
        _save_activity(run)
    if run.published or run.failed:
        logger.info(
            "event=relay_run batches=%d published=%d failed=%d dead=%d",
            run.batches,
            run.published,
            run.failed,
            run.dead,
        )
    return run
