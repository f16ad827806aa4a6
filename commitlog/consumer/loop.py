"""The consume loop: poll a batch, apply it in one DB transaction, then commit offsets.

Offsets are committed only after the database commit, so a crash in between replays
records that the durable dedup marks then drop. A lost database connection is retried
with backoff, holding the batch in hand; a stop request finishes the batch first.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import InterfaceError, OperationalError, connection

from commitlog.conf import built_from_settings
from commitlog.consumer.applier import BatchOutcome, apply_batch
from commitlog.records import RawRecord
from commitlog.telemetry.progress import consumer_heartbeat_save, consumer_progress_save

logger = logging.getLogger(__name__)


class LogSource(Protocol):
    topic: str

    @property
    def assigned(self) -> set[int]: ...

    def poll(self, max_records: int, timeout_s: float) -> list[RawRecord]: ...

    def commit(self, next_offsets: dict[tuple[str, int], int]) -> bool: ...

    def end_offsets(self, timeout_s: float = 10.0) -> dict[int, int]: ...

    def start_offsets(self, timeout_s: float = 10.0) -> dict[int, int]: ...

    def positions(self) -> dict[int, int]: ...

    def high_watermarks(self) -> dict[int, int]: ...


# LoopOptions' fields and the settings they default to.
_OPTION_SETTINGS = {
    "batch_size": "consumer_batch_size",
    "group": "commitlog_group",
    "heartbeat_s": "consumer_heartbeat_seconds",
    "pause_before_offset_commit_s": "consumer_pause_before_offset_commit_seconds",
}


@dataclass(frozen=True)
class LoopOptions:
    """The loop's knobs: the configured ones from commitlog.conf (from_settings), the rest
    the loop's own."""

    batch_size: int
    group: str
    heartbeat_s: float
    # Fault injection for tests and drills: a window between DB commit and offset commit.
    pause_before_offset_commit_s: float
    poll_timeout_s: float = 1.0
    exit_at_end: bool = False
    db_retry_max_s: float = 30.0

    @classmethod
    def from_settings(cls, **overrides: Any) -> LoopOptions:
        return built_from_settings(cls, _OPTION_SETTINGS, overrides)


class ConsumerLoop:
    def __init__(self, log: LogSource, options: LoopOptions, stop: threading.Event) -> None:
        self.log = log
        self.options = options
        self.stop = stop
        self.totals = BatchOutcome()
        self._ends: dict[int, int] | None = None
        self._committed: dict[int, int] = {}  # next offsets this member committed
        self._topic = log.topic
        self._last_report = 0.0
        self._starts: dict[int, int] = {}

    def run(self) -> BatchOutcome:
        while not self.stop.is_set():
            raws = self.log.poll(self.options.batch_size, self.options.poll_timeout_s)
            if raws:
                outcome = self._apply_until_done(raws)
                if outcome is None:
                    break  # stopped while the database was away: nothing was committed
                self._commit(outcome)
            else:
                self._commit_skipped_markers()
                self._heartbeat()
            if self.options.exit_at_end and self._caught_up():
                self._commit_skipped_markers()
                logger.info("event=consumer_caught_up ends=%s", self._ends)
                break
        return self.totals

    def _apply_until_done(self, raws: list[RawRecord]) -> BatchOutcome | None:
        delay = 0.5
        while True:
            try:
                return apply_batch(raws)
            except (OperationalError, InterfaceError) as exc:
                logger.warning(
                    "event=consumer_db_error records=%d retry_in_s=%.1f error=%s",
                    len(raws),
                    delay,
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                )
                connection.close()  # the next attempt opens a fresh connection
                if self.stop.wait(delay):
                    return None
                delay = min(delay * 2, self.options.db_retry_max_s)

    def _commit(self, outcome: BatchOutcome) -> None:
        if self.options.pause_before_offset_commit_s:
            time.sleep(self.options.pause_before_offset_commit_s)
        committed = self.log.commit(outcome.next_offsets)
        self.totals.add(outcome)
        if committed:
            self._report(outcome)
        logger.info(
            "event=consumer_batch records=%d applied=%d duplicates=%d invalid=%d conflicts=%d "
            "offsets=%s committed=%s",
            outcome.records,
            outcome.applied,
            outcome.duplicates,
            outcome.invalid,
            outcome.conflicts,
            ",".join(f"{p}:{o}" for (_, p), o in sorted(outcome.next_offsets.items())),
            committed,
        )

    def _commit_skipped_markers(self) -> None:
        """When idle, move committed offsets past transaction markers the client skipped,
        so a group at rest shows no lag. Positions only pass records already delivered."""
        ahead = {
            (self._topic, partition): position
            for partition, position in self.log.positions().items()
            if position > self._committed.get(partition, position)
        }
        if ahead and self.log.commit(ahead):
            self._report(BatchOutcome(next_offsets=ahead))

    def _heartbeat(self) -> None:
        if time.monotonic() - self._last_report < self.options.heartbeat_s:
            return
        try:
            consumer_heartbeat_save(
                group=self.options.group, topic=self._topic, ends=self.log.high_watermarks()
            )
        except (OperationalError, InterfaceError) as exc:
            logger.warning("event=consumer_heartbeat_not_saved error=%s", exc)
            connection.close()
        self._last_report = time.monotonic()

    def _report(self, outcome: BatchOutcome) -> None:
        """Positions and counters for operators; never worth stopping the stream for."""
        self._last_report = time.monotonic()
        for (_, partition), offset in outcome.next_offsets.items():
            self._committed[partition] = max(self._committed.get(partition, 0), offset)
        try:
            consumer_progress_save(
                group=self.options.group,
                next_offsets=outcome.next_offsets,
                ends=self.log.high_watermarks(),
                outcome=outcome,
            )
        except (OperationalError, InterfaceError) as exc:
            logger.warning("event=consumer_progress_not_saved error=%s", exc)
            connection.close()

    def _caught_up(self) -> bool:
        """Every assigned partition has been read up to where it ended when we started."""
        if not self.log.assigned:
            return False
        if self._ends is None:
            self._ends = self.log.end_offsets()
            self._starts = self.log.start_offsets()
        positions = self.log.positions()
        return all(
            max(positions.get(p, 0), self._starts.get(p, 0)) >= end
            for p, end in self._ends.items()
            if end > 0
        )
