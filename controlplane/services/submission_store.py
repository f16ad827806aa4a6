"""Writing a submission and its outbox row together, in one statement.

Through the ORM the two rows took four round trips (BEGIN, two INSERTs, COMMIT), and
Django's insert compiler with client-side quoting of a 10 KB DAG was the largest cost of
a request in a gunicorn worker. One `WITH ... INSERT` with its parameters bound on the
server in binary writes both rows in one round trip; outside a transaction it is a
transaction of its own, so the two rows still commit together or not at all.
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
from controlplane.models import StrategySubmission

# Every column of both tables is named, defaults included: a column added to either
# model without a default fails here loudly rather than being filled by accident.
_INSERT_BOTH = """
WITH submission AS (
    INSERT INTO controlplane_strategysubmission
        (strategy_id, dag_hash, dag, node_ids_crc32, insert_sentinel, world_ids, world_id,
         execution_domain, compute_context, downgraded, downgrade_reason, meta, status,
         submitted_at)
    VALUES (%b, %b, %b, %b, %b, %b::varchar[], %b, %b, %b, %b, %b, %b, %b, %b)
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
    *, submission: StrategySubmission, record: CommitLogRecord, written_at: datetime
) -> None:
    """Insert an unsaved submission and the outbox row of its record.

    Raises django.db.IntegrityError, with neither row written, when the DAG is stored
    already; RecordTooLarge before anything is sent when the record is over the limit.
    """
    value = encode_within_limit(record)
    row = submission
    params: list[Any] = [
        uuid.UUID(str(row.strategy_id)),
        row.dag_hash,
        Jsonb(row.dag),
        row.node_ids_crc32,
        row.insert_sentinel,
        list(row.world_ids),
        row.world_id,
        row.execution_domain,
        Jsonb(row.compute_context),
        row.downgraded,
        row.downgrade_reason,
        None if row.meta is None else Jsonb(row.meta),
        row.status,
        row.submitted_at,
        record.event.value,
        record.id,
        record.key,
        value,
        OutboxState.PENDING.value,
        written_at,
        written_at,
    ]
    with _own_transaction_or_savepoint(), binary_cursor() as cursor:
        cursor.execute(_INSERT_BOTH, params)
