"""The operators' overview: submissions and batches per state, the outbox backlog, the
consumer's positions and lag, invalid records and conflicts (the dashboard, the admin's home
page and /metrics read it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min
from django.utils import timezone

from commitlog.models import (
    ConsumerPosition,
    InvalidRecord,
    OutboxEvent,
    OutboxState,
    RecordConflict,
    UnreadRecord,
)
from config.adminkit.estimates import counted, row_count
from controlplane.models import RebalanceBatch, StrategySubmission, SubmissionStatus
from controlplane.records import Event


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    updated_at: datetime

    @property
    def lag(self) -> int:
        return max(0, self.end - self.committed)


@dataclass(frozen=True)
class Overview:
    submissions: dict[str, int]
    batches: dict[str, int]
    outbox: dict[str, int]
    oldest_pending_age: timedelta | None
    partitions: list[PartitionLag]
    invalid_records: int
    conflicts: int
    # Some totals are PostgreSQL's estimates (tables too large to count on every page).
    estimated: bool = False

    @property
    def oldest_pending_seconds(self) -> float | None:
        return self.oldest_pending_age.total_seconds() if self.oldest_pending_age else None

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def consumer_last_seen(self) -> datetime | None:
        return max((p.updated_at for p in self.partitions), default=None)


def _outbox_counts() -> tuple[dict[str, int], dict[tuple[str, str], int], bool]:
    """Rows per state; not-yet-recorded rows per (event, state); whether totals are estimated.

    Pending and dead rows are counted through the partial indexes that hold only them,
    unread ones through the read-back backlog: the backlog only. The published total is
    the table's size less the pending and dead rows.
    """
    unread = OutboxEvent.objects.filter(pk__in=UnreadRecord.objects.values("outbox_id"))
    backlog: dict[tuple[str, str], int] = {}
    for state, rows in (
        (OutboxState.PENDING, OutboxEvent.objects.filter(state=OutboxState.PENDING)),
        (OutboxState.DEAD, OutboxEvent.objects.filter(state=OutboxState.DEAD)),
        (OutboxState.PUBLISHED, unread),
    ):
        for event, n in rows.values_list("event").annotate(n=Count("pk")).order_by():
            backlog[(event, state)] = n
    states: dict[str, int] = {
        state: sum(n for (_, s), n in backlog.items() if s == state)
        for state in (OutboxState.PENDING, OutboxState.DEAD)
    }
    total, estimated = counted(OutboxEvent.objects.all())
    states[OutboxState.PUBLISHED] = max(0, total - sum(states.values()))
    return {s: states[s] for s in OutboxState.values}, backlog, estimated


def _status_counts(
    model: type[StrategySubmission] | type[RebalanceBatch],
    event: Event,
    backlog: dict[tuple[str, str], int],
) -> tuple[dict[str, int], bool]:
    """Per status, without reading the recorded history: a submission or batch is accepted
    while its outbox row is pending or dead and published while it is unread, so those
    come from the outbox backlog; recorded is the rest of the table's (estimated) size."""
    accepted = backlog.get((event.value, OutboxState.PENDING), 0)
    accepted += backlog.get((event.value, OutboxState.DEAD), 0)
    published = backlog.get((event.value, OutboxState.PUBLISHED), 0)
    total, estimated = counted(model.objects.all())
    counts: dict[str, int] = {
        SubmissionStatus.ACCEPTED: accepted,
        SubmissionStatus.PUBLISHED: published,
        SubmissionStatus.RECORDED: max(0, total - accepted - published),
    }
    return {status: counts[status] for status in SubmissionStatus.values}, estimated


def overview() -> Overview:
    outbox, backlog, outbox_estimated = _outbox_counts()
    submissions, submissions_estimated = _status_counts(StrategySubmission, Event.INGEST, backlog)
    batches, batches_estimated = _status_counts(RebalanceBatch, Event.REBALANCE, backlog)
    oldest = OutboxEvent.objects.filter(state=OutboxState.PENDING).aggregate(at=Min("created_at"))
    return Overview(
        submissions=submissions,
        batches=batches,
        outbox=outbox,
        oldest_pending_age=timezone.now() - oldest["at"] if oldest["at"] else None,
        partitions=[
            PartitionLag(
                p.group, p.topic, p.partition, p.committed_offset, p.end_offset, p.updated_at
            )
            for p in ConsumerPosition.objects.order_by("group", "topic", "partition")
        ],
        invalid_records=row_count(InvalidRecord.objects.all()),
        conflicts=row_count(RecordConflict.objects.all()),
        estimated=outbox_estimated or submissions_estimated or batches_estimated,
    )
