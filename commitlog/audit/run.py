"""The audit of the log against the database (manage.py audit_commitlog): reads the topic
up to the high watermarks seen at the start, compares each batch of records with the rows
recorded from them, then the rows recorded in the window with the keys read, and stores
the summary. Its cost follows what it reads: rows are looked up per batch by key, and the
window's rows come through the handlers' indexed `recorded_between`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from commitlog.audit.tally import Auditor
from commitlog.conf import commitlog_settings
from commitlog.kafka.scan import ScanError, TopicScan
from commitlog.models import AuditRun
from commitlog.records import record_key
from commitlog.registry import handlers

KEPT_RUNS = 10
PROGRESS_EVERY_S = 1.0


@dataclass(frozen=True)
class Progress:
    records: int
    per_second: float
    positions: dict[int, tuple[int, int]]  # partition -> (next offset, end)


def commitlog_audit(
    *,
    since: datetime | None = None,
    from_beginning: bool = False,
    batch_size: int = 1000,
    timeout_s: float = 10.0,
    progress: Callable[[Progress], None] | None = None,
) -> AuditRun:
    """Audit the records of the window: from `since`, from the log's start with
    `from_beginning`, else those of the retention window. Stores and returns the run."""
    conf = commitlog_settings()
    started = timezone.now()
    if from_beginning:
        since = None
    elif since is None:
        since = started - conf.retention
    auditor = Auditor()
    read: dict[int, tuple[int, int]] = {}
    error = ""
    scan = TopicScan(
        bootstrap=conf.commitlog_bootstrap,
        topic=conf.commitlog_topic,
        timeout_s=timeout_s,
        client_config=conf.commitlog_client_config,
    )
    try:
        starts, ends = _bounds(scan, since)
        read = {p: (starts[p], ends[p]) for p in starts}
        not_before = int(since.timestamp() * 1000) if since else 0
        _read(scan, auditor, (starts, ends, not_before), batch_size, progress)
        _missing(auditor, since, started)
    except ScanError as exc:
        error = str(exc)  # no missing rows counted from a read that stopped short
    finally:
        scan.close()
    return _stored(auditor, started, since, read, error)


def _bounds(scan: TopicScan, since: datetime | None) -> tuple[dict[int, int], dict[int, int]]:
    partitions = scan.partitions()
    marks = scan.watermarks(partitions)
    ends = {p: high for p, (_, high) in marks.items()}
    if since is None:
        return {p: low for p, (low, _) in marks.items()}, ends
    at = scan.offsets_at(partitions, int(since.timestamp() * 1000))
    # -1: no record that recent; an offset below the log's start: pruned since.
    starts = {p: ends[p] if at[p] < 0 else max(at[p], marks[p][0]) for p in partitions}
    return starts, ends


def _read(
    scan: TopicScan,
    auditor: Auditor,
    span: tuple[dict[int, int], dict[int, int], int],
    batch_size: int,
    progress: Callable[[Progress], None] | None,
) -> None:
    starts, ends, not_before = span
    began = last = time.monotonic()
    positions = dict(starts)

    def report() -> None:
        if progress is not None:
            elapsed = max(time.monotonic() - began, 1e-6)
            where = {p: (min(positions[p], ends[p]), ends[p]) for p in sorted(positions)}
            progress(Progress(auditor.tally.records, auditor.tally.records / elapsed, where))

    for records, moved in scan.read(starts, ends, batch_size, not_before):
        auditor.feed(records)
        positions.update(moved)
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            report()
    positions.update({p: max(positions[p], ends[p]) for p in positions})
    report()


def _missing(auditor: Auditor, since: datetime | None, started: datetime) -> None:
    """Rows submitted in the window and recorded before the audit began: their records
    were in the log when it began, so each key must have been read."""
    for handler in handlers():
        if handler.recorded_between is None:
            continue
        rows = handler.recorded_between(since, started)
        auditor.missing_among(
            (record_key(handler.event, row.aggregate_id), row)
            for row in rows
            if row.recorded_at is not None and row.recorded_at < started
        )


def _stored(
    auditor: Auditor,
    started: datetime,
    since: datetime | None,
    read: dict[int, tuple[int, int]],
    error: str,
) -> AuditRun:
    tally = auditor.tally
    run = AuditRun.objects.create(
        started_at=started,
        finished_at=timezone.now(),
        since=since,
        records=tally.records,
        matched=tally.matched,
        pending=tally.pending,
        missing=tally.missing,
        unknown=tally.unknown,
        conflicts=tally.conflicts,
        differs=tally.differs,
        positions={str(p): list(span) for p, span in sorted(read.items())},
        examples=tally.examples,
        error=error,
    )
    kept = AuditRun.objects.order_by("-id").values_list("id", flat=True)[:KEPT_RUNS]
    AuditRun.objects.exclude(id__in=list(kept)).delete()
    return run


def last_audit_run() -> AuditRun | None:
    return AuditRun.objects.order_by("-id").first()
