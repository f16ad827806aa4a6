"""Writing a submission and its outbox row together, in one statement (the domain's insert,
then commitlog's OUTBOX_ROW_INSERT): through the ORM, Django's insert compiler was the
largest cost of a request in a gunicorn worker."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import connection
from psycopg.types.json import Jsonb

from commitlog.outbox.write import OUTBOX_ROW_INSERT, outbox_row_params, outbox_statement_scope
from commitlog.records import CommitLogRecord

# Every column is named, defaults included: a column added to the model without a default
# fails here loudly rather than being filled by accident. Each value is bound once (named
# placeholders repeat as one parameter) and what follows from another is worked out on the
# server: each parameter costs the request its adaptation in Python. 'accepted' is
# SubmissionStatus.ACCEPTED (a test holds it to the enum).
_INSERT_SUBMISSION = """
INSERT INTO controlplane_strategysubmission
    (strategy_id, dag_hash, dag, node_ids_crc32, insert_sentinel, world_ids, world_id,
     execution_domain, compute_context, downgraded, downgrade_reason, meta, status,
     submitted_at, credential_id, owner_scope)
VALUES (%(strategy_id)s, %(dag_hash)s, %(dag)s::text::jsonb, %(crc)s, %(sentinel)s,
        %(world_ids)s::varchar[], (%(world_ids)s::varchar[])[1], %(domain)s,
        %(context)s, %(reason)s <> '', %(reason)s, %(meta)s, 'accepted', %(at)s,
        %(credential_id)s, %(owner_scope)s)
"""
_INSERT_BOTH = f"WITH domain_row AS ({_INSERT_SUBMISSION})\n{OUTBOX_ROW_INSERT}"


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
    owner_scope: str = "",
) -> None:
    """Insert a submission (status accepted) and the outbox row of its record.

    `dag_text` is the stored DAG as JSON text. Raises django.db.IntegrityError, with
    neither row written, when the DAG is stored already in `owner_scope`; RecordTooLarge
    before anything is sent when the record is over the limit. `credential_id` is the
    sender's, None for an anonymous call.
    """
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
        "owner_scope": owner_scope,
        **outbox_row_params(record, at=submitted_at),
    }
    with outbox_statement_scope(), connection.cursor() as cursor:
        cursor.execute(_INSERT_BOTH, params)
