"""Writing outbox rows. Callers hold the transaction that also writes the domain row."""

from __future__ import annotations

from commitlog.models import OutboxEvent
from commitlog.records import CommitLogRecord, encode_value


def outbox_enqueue(*, record: CommitLogRecord) -> OutboxEvent:
    """Store the record's key and its encoded bytes; the relay publishes them as they are."""
    return OutboxEvent.objects.create(
        event=record.event.value,
        aggregate_id=record.id,
        key=record.key,
        value=encode_value(record),
    )


def outbox_enqueue_many(*, records: list[CommitLogRecord]) -> list[OutboxEvent]:
    """One multi-row INSERT for several records (a multi-world rebalance request)."""
    rows = [
        OutboxEvent(
            event=record.event.value,
            aggregate_id=record.id,
            key=record.key,
            value=encode_value(record),
        )
        for record in records
    ]
    return OutboxEvent.objects.bulk_create(rows)
