"""Writing outbox rows. Callers hold the transaction that also writes the domain row."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commitlog.models import OutboxEvent, OutboxState
from commitlog.outbox.nudge import nudge_relay_on_commit
from commitlog.records import CommitLogRecord, encode_value

logger = logging.getLogger(__name__)


class RecordTooLarge(ValueError):
    """The record's bytes would be over COMMITLOG_MAX_RECORD_BYTES: Kafka could never take
    them, so nothing may be written."""


def encode_within_limit(record: CommitLogRecord) -> bytes:
    """The record's bytes; RecordTooLarge when Kafka could never take them."""
    value = encode_value(record)
    limit: int = settings.COMMITLOG_MAX_RECORD_BYTES
    if len(value) > limit:
        raise RecordTooLarge(
            f"the commit-log record would be {len(value)} bytes, over the {limit} byte limit"
        )
    return value


def outbox_enqueue_many(*, records: list[CommitLogRecord]) -> list[OutboxEvent]:
    """One multi-row INSERT for several records (a multi-world rebalance request)."""
    rows = [
        OutboxEvent(
            event=record.event,
            aggregate_id=record.id,
            key=record.key,
            value=encode_within_limit(record),
        )
        for record in records
    ]
    return OutboxEvent.objects.bulk_create(rows)


def outbox_requeue_dead(*, ids: list[int]) -> int:
    """Give dead rows a fresh start: pending, no attempts, due now. Returns how many moved.

    The last error is kept so the operator still sees why the row had died.
    """
    with transaction.atomic():
        moved = OutboxEvent.objects.filter(id__in=ids, state=OutboxState.DEAD).update(
            state=OutboxState.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
    if moved:
        logger.info("event=outbox_requeued rows=%d ids=%s", moved, ",".join(map(str, ids[:50])))
        nudge_relay_on_commit()
    return moved
