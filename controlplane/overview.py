"""Read models for operators: the dashboard overview and a submission's trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Min
from django.utils import timezone

from commitlog.models import (
    ConsumedRecord,
    ConsumerPosition,
    InvalidRecord,
    MetricCounter,
    OutboxEvent,
    OutboxState,
    RecordConflict,
)
from commitlog.records import Event, record_key
from controlplane.models import RebalanceBatch, StrategySubmission, SubmissionStatus


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
    counters: dict[str, float] = field(default_factory=dict)

    @property
    def oldest_pending_seconds(self) -> float | None:
        return self.oldest_pending_age.total_seconds() if self.oldest_pending_age else None

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def consumer_last_seen(self) -> datetime | None:
        return max((p.updated_at for p in self.partitions), default=None)


def _counts(model: type[StrategySubmission] | type[RebalanceBatch]) -> dict[str, int]:
    found = dict(model.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return {status: found.get(status, 0) for status in SubmissionStatus.values}


def overview() -> Overview:
    outbox = dict(OutboxEvent.objects.values_list("state").annotate(n=Count("pk")).order_by())
    oldest = OutboxEvent.objects.filter(state=OutboxState.PENDING).aggregate(at=Min("created_at"))
    counters = {
        f"{c.name}{{{c.label}}}" if c.label else c.name: c.value
        for c in MetricCounter.objects.all()
    }
    return Overview(
        submissions=_counts(StrategySubmission),
        batches=_counts(RebalanceBatch),
        outbox={state: outbox.get(state, 0) for state in OutboxState.values},
        oldest_pending_age=timezone.now() - oldest["at"] if oldest["at"] else None,
        partitions=[
            PartitionLag(
                p.group, p.topic, p.partition, p.committed_offset, p.end_offset, p.updated_at
            )
            for p in ConsumerPosition.objects.all()
        ],
        invalid_records=InvalidRecord.objects.count(),
        conflicts=RecordConflict.objects.count(),
        counters=counters,
    )


@dataclass(frozen=True)
class Trace:
    outbox: OutboxEvent | None
    consumed: ConsumedRecord | None
    conflicts: list[RecordConflict]


def trace(*, event: str, aggregate_id: str) -> Trace:
    """Where one submission or batch went: its outbox row, its Kafka position, its read-back."""
    # Both tables are reached through their unique record key, the only index they keep.
    key = record_key(Event(event), aggregate_id)
    return Trace(
        outbox=OutboxEvent.objects.filter(key=key).first(),
        consumed=ConsumedRecord.objects.filter(key=key).first(),
        conflicts=list(RecordConflict.objects.filter(record_id=aggregate_id, event=event)[:20]),
    )
