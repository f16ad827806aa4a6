"""Strategy submission: the ingest record of a cleaned request, stored with its outbox row."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError

from commitlog.outbox.nudge import nudge_relay_on_commit
from commitlog.records import CommitLogRecord
from controlplane import access
from controlplane.domain import dag as dags
from controlplane.domain import strategy_ids as ids
from controlplane.domain.clock import now_stamp
from controlplane.domain.compute_context import ComputeContext
from controlplane.domain.submission import StrategyRequest
from controlplane.errors import DuplicateSubmission
from controlplane.models import ApiCredential, StrategySubmission
from controlplane.records import Event
from controlplane.records.ingest import ingest_payload
from controlplane.services.credentials import credential_log_fields
from controlplane.services.submission_store import submission_insert_with_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StrategyAck:
    strategy_id: str
    sentinel_id: str
    node_ids_crc32: int
    compute_context: ComputeContext


def _duplicate_of(
    dag_hash: str, scope: str, credential: ApiCredential | None
) -> DuplicateSubmission | None:
    """The 409 for a DAG stored already in `scope`, None if it is not: with the existing id
    only for a credential that may see that strategy (docs/API.md), so ids do not cross
    tenants (within one scope, they seldom need hiding)."""
    found = (
        StrategySubmission.objects.filter(dag_hash=dag_hash, owner_scope=scope)
        .values_list("strategy_id", "credential_id", "world_ids")
        .first()
    )
    if found is None:
        return None
    strategy_id, sender_id, world_ids = found
    visible = access.may_see_strategy(credential, sender_id, world_ids)
    return DuplicateSubmission(str(strategy_id) if visible else None)


def strategy_submit(
    *,
    request: StrategyRequest,
    insert_sentinel: bool | None = None,
    credential: ApiCredential | None = None,
) -> StrategyAck:
    """Accept a cleaned strategy request: the submission row and its outbox row commit
    together or not at all.

    Raises Forbidden (nothing written) for a world the `credential` (the sender, recorded
    with the row) may not use, DuplicateSubmission when the same DAG is already stored in
    the credential's owner scope (access.owner_scope), even when the other submission is
    racing this one. Another scope's copy of the DAG does not count.
    """
    worlds = list(request.world_ids)
    access.check_strategy_worlds(credential, worlds)
    compute_context, node_ids_crc32 = request.compute_context, request.node_ids_crc32

    # Duplicates are found by the unique (dag_hash, owner_scope) when the row is inserted
    # (below): a SELECT first would cost every submission a round trip and still miss races.
    submitted_hash = request.dag_hash
    scope = access.owner_scope(credential)
    if insert_sentinel is None:
        insert_sentinel = settings.GATEWAY_INSERT_SENTINEL
    strategy_uuid = ids.new_strategy_id()
    strategy_id = str(strategy_uuid)
    stored_dag = (
        dags.with_sentinel(request.dag, strategy_id, dags.version_from_meta(request.meta))
        if insert_sentinel
        else request.dag
    )
    stamp = now_stamp()
    stored_dag_text = dags.dag_text(stored_dag)
    payload = ingest_payload(
        strategy_id=strategy_id,
        submitted_dag_hash=submitted_hash,
        stored_dag=stored_dag,
        node_ids_crc32=node_ids_crc32,
        insert_sentinel=insert_sentinel,
        compute_context=compute_context,
        world_ids=worlds,
        meta=request.meta,
        stamp=stamp,
        stored_dag_text=stored_dag_text,
    )
    record = CommitLogRecord(Event.INGEST, stamp.timestamp_ms, strategy_id, payload)

    try:
        submission_insert_with_record(
            strategy_id=strategy_uuid,
            dag_hash=submitted_hash,
            dag_text=stored_dag_text,
            node_ids_crc32=node_ids_crc32,
            insert_sentinel=insert_sentinel,
            world_ids=worlds,
            execution_domain=compute_context.execution_domain or "",
            compute_context=payload["compute_context"],
            downgrade_reason=(
                compute_context.downgrade_reason.value if compute_context.downgrade_reason else ""
            ),
            meta=request.meta,
            submitted_at=stamp.at,
            record=record,
            credential_id=credential.pk if credential is not None else None,
            owner_scope=scope,
        )
        nudge_relay_on_commit()
    except IntegrityError:
        # The same DAG is stored already, or a concurrent identical submission won.
        duplicate = _duplicate_of(submitted_hash, scope, credential)
        if duplicate is None:
            raise
        raise duplicate from None

    logger.info(
        "event=strategy_accepted strategy_id=%s dag_hash=%s world_id=%s execution_domain=%s "
        "downgraded=%s credential_id=%s credential=%s",
        strategy_id,
        submitted_hash,
        worlds[0],
        compute_context.execution_domain,
        compute_context.downgraded,
        *credential_log_fields(credential),
    )
    return StrategyAck(
        strategy_id=strategy_id,
        sentinel_id=dags.sentinel_id(strategy_id) if insert_sentinel else "",
        node_ids_crc32=node_ids_crc32,
        compute_context=compute_context,
    )
