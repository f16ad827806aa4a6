"""Writing a submission and its outbox row together, in one statement.

Through the ORM the two rows took four round trips (BEGIN, two INSERTs, COMMIT), and
Django's insert compiler was the largest cost of a request in a gunicorn worker. One
`WITH ... INSERT` writes both rows in one round trip; outside a transaction it is a
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

from commitlog.outbox.write import encode_within_limit
from commitlog.records import CommitLogRecord

# Every column of both tables is named, defaults included: a column added to either
# model without a default fails here loudly rather than being filled by accident. Each
# value is bound once (named placeholders repeat as one parameter) and what follows
# from another is worked out on the server: each parameter costs the request its
# adaptation in Python. The two constants are SubmissionStatus.ACCEPTED and
# OutboxState.PENDING (a test holds them to the enums).
_INSERT_BOTH = """
WITH submission AS (
    INSERT INTO controlplane_strategysubmission
        (strategy_id, dag_hash, dag, node_ids_crc32, insert_sentinel, world_ids, world_id,
         execution_domain, compute_context, downgraded, downgrade_reason, meta, status,
         submitted_at, credential_id)
    VALUES (%(strategy_id)s, %(dag_hash)s, %(dag)s::text::jsonb, %(crc)s, %(sentinel)s,
            %(world_ids)s::varchar[], (%(world_ids)s::varchar[])[1], %(domain)s,
            %(context)s, %(reason)s <> '', %(reason)s, %(meta)s, 'accepted', %(at)s,
            %(credential_id)s)
)
INSERT INTO commitlog_outboxevent
    (event, aggregate_id, key, value, state, attempts, next_attempt_at, last_error,
     created_at)
VALUES (%(event)s, %(aggregate_id)s, %(key)s, %(value)s, 'pending', 0, %(at)s, '', %(at)s)
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
    credential_id: int | None = None,
) -> None:
    """Insert a submission (status accepted) and the outbox row of its record.

    `dag_text` is the stored DAG as JSON text. Raises django.db.IntegrityError, with
    neither row written, when the DAG is stored already; RecordTooLarge before anything
    is sent when the record is over the limit. `credential_id` is the sender's, None for
    an anonymous call.
    """
    value = encode_within_limit(record)
    params: dict[str, Any] = {
        "strategy_id": strategy_id,
        "dag_hash": dag_hash,
        "dag": dag_text,
        "crc": node_ids_crc32,
        "sentinel": insert_sentinel,
        "world_ids": world_ids,
        "domain": execution_domain,
        "context": Jsonb(compute_context),
        "reason": downgrade_reason,
        "meta": None if meta is None else Jsonb(meta),
        "at": submitted_at,
        "credential_id": credential_id,
        "event": record.event,
        "aggregate_id": record.id,
        "key": record.key,
        "value": value,
    }
    with _own_transaction_or_savepoint(), connection.cursor() as cursor:
        cursor.execute(_INSERT_BOTH, params)
