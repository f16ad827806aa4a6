"""State moves of submissions and batches driven by the commit log: published, recorded."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import NamedTuple

from django.contrib.admin.utils import quote
from django.db import connection
from django.urls import reverse

from commitlog.registry import Clash, Delivered, EventHandler, Outcome, PublishedAt, register
from controlplane.domain.tenancy import GLOBAL_SCOPE
from controlplane.models import RebalanceBatch, StrategySubmission, SubmissionStatus
from controlplane.records import Event
from controlplane.records.ingest import IngestState, decode_ingest, parse_ingest
from controlplane.records.rebalance import BatchState, parse_rebalance
from controlplane.services.log_audit import recorded_between_of, rows_of

_TABLES = {
    Event.INGEST.value: ("controlplane_strategysubmission", "strategy_id"),
    Event.REBALANCE.value: ("controlplane_rebalancebatch", "batch_id"),
}


# The relay marks a batch published while the consumer, which reads the batch as soon as
# its Kafka transaction commits, marks the same rows recorded. Each statement locked the
# rows in the order of its own input (outbox order, against partition and offset order),
# so the two could deadlock, and PostgreSQL broke the tie only after deadlock_timeout
# (1 s): both stalled. Both now lock the rows in key order first (with ORDER BY, the lock
# is taken after the sort), so one waits for the other instead. Spelled out per table
# (the SQL rule, docs/ARCHITECTURE.md, would also accept them built from _TABLES).
_LOCKED_IN_KEY_ORDER = {
    Event.INGEST.value: """
        SELECT s.strategy_id AS id, v.p, v.o
        FROM controlplane_strategysubmission AS s
        JOIN unnest(%s::text[], %s::integer[], %s::bigint[]) AS v(id, p, o)
            ON s.strategy_id = v.id::uuid
        ORDER BY s.strategy_id
        FOR UPDATE OF s
    """,
    Event.REBALANCE.value: """
        SELECT s.batch_id AS id, v.p, v.o
        FROM controlplane_rebalancebatch AS s
        JOIN unnest(%s::text[], %s::integer[], %s::bigint[]) AS v(id, p, o)
            ON s.batch_id = v.id
        ORDER BY s.batch_id
        FOR UPDATE OF s
    """,
}


def _mark_published(event: str, rows: list[PublishedAt], at: datetime) -> set[str]:
    """accepted -> published, with the Kafka position; never moves a recorded row back.

    Runs inside the relay's transaction (the one that marks the outbox rows). Returns the
    ids not recorded yet: the records the consumer still has to read back.
    """
    table, key = _TABLES[event]
    locked = _LOCKED_IN_KEY_ORDER[event]
    with connection.cursor() as cursor:
        # Table and column names come from the constant maps above, never from input;
        # the values travel as three arrays, whatever the number of rows.
        cursor.execute(
            f"""
            UPDATE {table} AS t
            SET status = CASE WHEN t.status = 'accepted' THEN 'published' ELSE t.status END,
                published_at = COALESCE(t.published_at, %s),
                commitlog_partition = COALESCE(t.commitlog_partition, v.p),
                commitlog_offset = COALESCE(t.commitlog_offset, v.o)
            FROM ({locked}) AS v
            WHERE t.{key} = v.id
            RETURNING t.{key}, t.status
            """,  # noqa: S608
            [
                at,
                [row.aggregate_id for row in rows],
                [row.partition for row in rows],
                [row.offset for row in rows],
            ],
        )
        return {str(i) for i, status in cursor.fetchall() if status != "recorded"}


# How a text id becomes the table's key in the statements below.
_KEY_CASTS = {Event.INGEST.value: "::uuid", Event.REBALANCE.value: ""}


class _Known(NamedTuple):
    was: str
    digest: str


def _mark_recorded(event: str, items: list[Delivered], at: datetime) -> dict[str, _Known]:
    """Move the rows this database has to recorded, unless they are; returns what it had.

    The known rows are locked in key order, as above, and returned with the status and
    digest they had: a row already recorded is the dedup answer that outlives the pruned
    dedup marks.
    """
    table, key = _TABLES[event]
    cast = _KEY_CASTS[event]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH v AS (
                SELECT s.{key} AS id, s.status AS was, s.commitlog_sha256 AS sha,
                       v.p, v.o, v.d
                FROM {table} AS s
                JOIN unnest(%s::text[], %s::integer[], %s::bigint[], %s::text[])
                    AS v(id, p, o, d) ON s.{key} = v.id{cast}
                ORDER BY s.{key}
                FOR UPDATE OF s
            ), moved AS (
                UPDATE {table} AS t
                SET status = 'recorded', recorded_at = %s, commitlog_partition = v.p,
                    commitlog_offset = v.o, commitlog_sha256 = v.d
                FROM v
                WHERE t.{key} = v.id AND v.was <> 'recorded'
            )
            SELECT id, was, sha FROM v
            """,  # noqa: S608  (names come from the constant maps, values are parameters)
            [
                [item.record_id for item in items],
                [item.partition for item in items],
                [item.offset for item in items],
                [item.digest for item in items],
                at,
            ],
        )
        return {str(row[0]): _Known(row[1], row[2]) for row in cursor.fetchall()}


def _sort_known(
    items: list[Delivered], known: dict[str, _Known], outcome: Outcome
) -> list[Delivered]:
    """Rows already recorded change nothing: the same bytes are a duplicate, other bytes a
    clash (an empty digest, recorded before digests were kept, counts as the same). Returns
    the items this database does not have."""
    missing: list[Delivered] = []
    for item in items:
        had = known.get(item.record_id)
        if had is None:
            missing.append(item)
        elif had.was != SubmissionStatus.RECORDED or had.digest in ("", item.digest):
            if had.was == SubmissionStatus.RECORDED:
                outcome.already.append(item.record_id)
        else:
            reason = "already recorded from a record with different content"
            outcome.clashes.append(Clash(item.record_id, reason, had.digest))
    return missing


def record_submissions(items: list[Delivered], at: datetime) -> Outcome:
    """Known submissions move to recorded; unknown ones are rebuilt from their payload.

    The log does not say who sent a record, so a rebuilt strategy is in the global scope
    (controlplane.domain.tenancy). A rebuild whose DAG hash already belongs to another
    strategy of that scope is not applied: it is returned as a clash for operators. Runs
    inside the consumer's batch transaction.
    """
    outcome = Outcome()
    if not items:
        return outcome
    for item in items:
        uuid.UUID(item.record_id)  # a strategy id is a UUID: refuse anything else here
    # One statement finds the known submissions and records them; the rest are rebuilt.
    missing = _sort_known(items, _mark_recorded(Event.INGEST.value, items, at), outcome)
    if not missing:
        return outcome
    states = [(item, item.state) for item in missing if isinstance(item.state, IngestState)]
    taken = dict(
        StrategySubmission.objects.filter(
            dag_hash__in=[s.dag_hash for _, s in states], owner_scope=GLOBAL_SCOPE
        ).values_list("dag_hash", "pk")
    )
    rows: list[StrategySubmission] = []
    for item, state in states:
        if state.dag_hash in taken:
            owner = taken[state.dag_hash]
            reason = f"dag_hash {state.dag_hash} already belongs to strategy {owner}"
            outcome.clashes.append(Clash(item.record_id, reason))
            continue
        taken[state.dag_hash] = state.strategy_id
        rows.append(
            StrategySubmission(
                strategy_id=state.strategy_id,
                dag_hash=state.dag_hash,
                dag=state.dag,
                node_ids_crc32=state.node_ids_crc32,
                insert_sentinel=state.insert_sentinel,
                world_ids=state.world_ids,
                world_id=state.world_ids[0],
                execution_domain=state.execution_domain,
                compute_context=state.compute_context,
                downgraded=bool(state.downgrade_reason),
                downgrade_reason=state.downgrade_reason,
                meta=state.meta,
                status=SubmissionStatus.RECORDED,
                submitted_at=state.submitted_at,
                recorded_at=at,
                commitlog_partition=item.partition,
                commitlog_offset=item.offset,
                commitlog_sha256=item.digest,
            )
        )
    StrategySubmission.objects.bulk_create(rows)
    outcome.rebuilt = [str(row.strategy_id) for row in rows]
    return outcome


def record_batches(items: list[Delivered], at: datetime) -> Outcome:
    """Known batches move to recorded; unknown ones are rebuilt from their payload."""
    outcome = Outcome()
    if not items:
        return outcome
    missing = _sort_known(items, _mark_recorded(Event.REBALANCE.value, items, at), outcome)
    rows = [
        RebalanceBatch(
            batch_id=state.batch_id,
            world_id=state.world_id,
            scope=state.scope,
            mode=state.mode,
            shared_account=state.shared_account,
            orders=state.orders,
            total_orders=state.total,
            reduce_only_orders=state.reduce_only,
            reduce_only_ratio=state.reduce_only_ratio,
            status=SubmissionStatus.RECORDED,
            submitted_at=state.submitted_at,
            recorded_at=at,
            commitlog_partition=item.partition,
            commitlog_offset=item.offset,
            commitlog_sha256=item.digest,
        )
        for item in missing
        if isinstance(state := item.state, BatchState)
    ]
    RebalanceBatch.objects.bulk_create(rows)
    outcome.rebuilt = [row.batch_id for row in rows]
    return outcome


def _admin_url(model: str) -> Callable[[str], str]:
    def url(aggregate_id: str) -> str:
        # Quoted as the admin's own links are: any stored id (a `/`, a newline in a batch
        # stored before ids were checked) still makes a URL the change page unquotes.
        return reverse(f"admin:controlplane_{model}_change", args=[quote(aggregate_id)])

    return url


def register_handlers() -> None:
    """What the two events do to this app's state, handed to the commit-log machinery."""
    register(
        EventHandler(
            event=Event.INGEST.value,
            parse=parse_ingest,
            apply=record_submissions,
            published=partial(_mark_published, Event.INGEST.value),
            decode=decode_ingest,
            admin_url=_admin_url("strategysubmission"),
            rows=rows_of(StrategySubmission, uuid_keys=True),
            recorded_between=recorded_between_of(StrategySubmission),
        )
    )
    register(
        EventHandler(
            event=Event.REBALANCE.value,
            parse=parse_rebalance,
            apply=record_batches,
            published=partial(_mark_published, Event.REBALANCE.value),
            admin_url=_admin_url("rebalancebatch"),
            rows=rows_of(RebalanceBatch),
            recorded_between=recorded_between_of(RebalanceBatch),
        )
    )
