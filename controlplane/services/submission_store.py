"""Writing a submission and its outbox row together, in one statement.

Through the ORM the two rows took four round trips (BEGIN, two INSERTs, COMMIT), and
Django's insert compiler with client-side quoting of a 10 KB DAG was the largest cost of
a request in a gunicorn worker. One `WITH ... INSERT` with its parameters bound on the
server in binary writes both rows in one round trip; outside a transaction it is a
transaction of its own, so the two rows still commit together or not at all. It is a
prepared statement: PostgreSQL parses and plans it once per connection.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from psycopg.types.json import Jsonb

from commitlog.binary_params import binary_cursor
from commitlog.models import OutboxState
from commitlog.outbox import encode_within_limit
from commitlog.records import CommitLogRecord
from controlplane.models import SubmissionStatus

# Every column of both tables is named, defaults included: a column added to either
# model without a default fails here loudly rather than being filled by accident.
_INSERT_BOTH = """
WITH submission AS (
    INSERT INTO controlplane_strategysubmission
        (strategy_id, dag_hash, dag, node_ids_crc32, insert_sentinel, world_ids, world_id,
         execution_domain, compute_context, downgraded, downgrade_reason, meta, status,
         submitted_at)
    VALUES (%b, %b, %b::text::jsonb, %b, %b, %b::varchar[], %b, %b, %b, %b, %b, %b, %b, %b)
)
INSERT INTO commitlog_outboxevent
    (event, aggregate_id, key, value, state, attempts, next_attempt_at, last_error,
     created_at)
VALUES (%b, %b, %b, %b, %b, 0, %b, '', %b)
"""


@contextmanager
def _own_transaction_or_savepoint() -> Iterator[None]:
    # In autocommit the statement is its own transaction. Inside a caller's transaction
    # a savepoint keeps a refused insert (a duplicate DAG) from breaking that transaction.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        yield


def submission_insert_with_record(
    *,
    strategy_id: uuid.UUID,
    dag_hash: str,
    dag_text: str,
    node_ids_crc32: int,
    insert_sentinel: bool,
    world_ids: list[str],
    execution_domain: str,
    compute_context: dict[str, Any],
    downgrade_reason: str,
    meta: Any,
    submitted_at: datetime,
    record: CommitLogRecord,
) -> None:
    """Insert a submission (status accepted) and the outbox row of its record.

    `dag_text` is the stored DAG as JSON text. Raises django.db.IntegrityError, with
    neither row written, when the DAG is stored already; RecordTooLarge before anything
    is sent when the record is over the limit.
    """
    value = encode_within_limit(record)
    params: list[Any] = [
        strategy_id,
        dag_hash,
        dag_text,
        node_ids_crc32,
        insert_sentinel,
        world_ids,
        world_ids[0],
        execution_domain,
        Jsonb(compute_context),
        bool(downgrade_reason),
        downgrade_reason,
        None if meta is None else Jsonb(meta),
        SubmissionStatus.ACCEPTED.value,
        submitted_at,
        record.event.value,
        record.id,
        record.key,
        value,
        OutboxState.PENDING.value,
        submitted_at,
        submitted_at,
    ]
    with _own_transaction_or_savepoint(), binary_cursor() as cursor:
        cursor.execute(_INSERT_BOTH, params, prepare=True)
