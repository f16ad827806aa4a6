"""Writing outbox rows. Callers hold the transaction that also writes the domain row."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from commitlog.conf import commitlog_settings
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
    limit: int = commitlog_settings().commitlog_max_record_bytes
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


# The outbox row as one statement writes it beside the domain's own row (a domain's insert
# as a CTE, then this: one round trip where the ORM takes four). Every column is
# named, defaults included: a column added to the model without a default fails here
# loudly rather than being filled by accident. 'pending' is OutboxState.PENDING (a test
# holds it to the enum).
OUTBOX_ROW_INSERT = """
INSERT INTO commitlog_outboxevent
    (event, aggregate_id, key, value, state, attempts, next_attempt_at, last_error,
     created_at)
VALUES (%(outbox_event)s, %(outbox_aggregate_id)s, %(outbox_key)s, %(outbox_value)s,
        'pending', 0, %(outbox_at)s, '', %(outbox_at)s)
"""


def outbox_row_params(record: CommitLogRecord, *, at: datetime) -> dict[str, Any]:
    """The outbox row's parameters; RecordTooLarge before anything is sent."""
    return {
        "outbox_event": record.event,
        "outbox_aggregate_id": record.id,
        "outbox_key": record.key,
        "outbox_value": encode_within_limit(record),
        "outbox_at": at,
    }


@contextmanager
def outbox_statement_scope() -> Iterator[None]:
    """Where a statement that also writes OUTBOX_ROW_INSERT runs: both rows commit together
    or not at all."""
    # In autocommit the statement is its own transaction. Inside a caller's transaction
    # a savepoint keeps a refused insert (a duplicate) from breaking that transaction.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        yield
