"""Rebalance order batches: each group of orders stored as a batch with its record, once
per Idempotency-Key."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.db import transaction

from commitlog.outbox.nudge import nudge_relay_on_commit
from commitlog.outbox.write import outbox_enqueue_many
from commitlog.records import CommitLogRecord
from controlplane import access, selectors
from controlplane.domain.clock import now_stamp
from controlplane.domain.orders import OrderGroup, RebalanceRequest
from controlplane.domain.scopes import Scope
from controlplane.models import ApiCredential, RebalanceBatch
from controlplane.records import Event
from controlplane.records.rebalance import rebalance_payload
from controlplane.services.credentials import credential_log_fields
from controlplane.services.idempotency import IdempotencyClaim

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RebalanceAccepted:
    batches: list[RebalanceBatch]
    replayed: bool = False  # the answer of an earlier request with the same Idempotency-Key


class _KeyTaken(Exception):
    """Raised inside the transaction to roll it back: another request holds the key."""


def _replay(batch_ids: list[str]) -> RebalanceAccepted:
    found = RebalanceBatch.objects.in_bulk(batch_ids)
    return RebalanceAccepted([found[i] for i in batch_ids if i in found], replayed=True)


def _check_strategies_named(
    credential: ApiCredential | None, groups: tuple[OrderGroup, ...]
) -> None:
    if not access.is_limited_to_worlds(credential):
        return  # no query for a credential that may name any strategy
    named = [
        entry["strategy_id"]
        for group in groups
        if group.scope is Scope.PER_STRATEGY
        for entry in group.orders
    ]
    if named:
        visible = selectors.strategies_visible_to(credential, named)
        access.check_strategies_named(named, visible)


def rebalance_submit(
    *,
    request: RebalanceRequest,
    claim: IdempotencyClaim | None = None,
    credential: ApiCredential | None = None,
) -> RebalanceAccepted:
    """Store one batch per group of a cleaned request, each with its outbox row, in one
    transaction; with a `claim`, only if no earlier request with its key did (whose
    answer is given).

    Raises Forbidden, nothing written, when the `credential` (the sender, recorded with
    each batch) may not use a group's world or scope.
    """
    groups, mode = request.groups, request.mode
    access.check_batches(credential, [(g.world_id, g.scope.value) for g in groups])
    _check_strategies_named(credential, groups)
    if claim is not None and (earlier := claim.earlier()) is not None:
        return _replay(earlier)

    stamp = now_stamp()
    batches: list[RebalanceBatch] = []
    records: list[CommitLogRecord] = []
    for group in groups:
        batch_id = f"{group.world_id}:{uuid.uuid4().hex}"
        reduce_only = group.reduce_only_count()
        # qmtl nets accounts across strategies only; a per_strategy batch never shares one.
        shared = request.shared_account and group.scope is not Scope.PER_STRATEGY
        payload = rebalance_payload(
            batch_id=batch_id,
            world_id=group.world_id,
            scope=group.scope.value,
            orders=group.orders,
            reduce_only=reduce_only,
            mode=mode,
            shared_account=shared,
            submitted_at=stamp.iso,
        )
        batches.append(
            RebalanceBatch(
                batch_id=batch_id,
                world_id=group.world_id,
                scope=group.scope.value,
                mode=mode or "",
                shared_account=shared,
                orders=group.orders,
                total_orders=len(group.orders),
                reduce_only_orders=reduce_only,
                reduce_only_ratio=payload["reduce_only_ratio"],
                submitted_at=stamp.at,
                credential=credential,
            )
        )
        records.append(CommitLogRecord(Event.REBALANCE, stamp.timestamp_ms, batch_id, payload))

    try:
        with transaction.atomic():
            # The key first: a concurrent request with it waits here, not after its batches.
            if claim is not None and not claim.hold([b.batch_id for b in batches], stamp.at):
                raise _KeyTaken
            RebalanceBatch.objects.bulk_create(batches)
            outbox_enqueue_many(records=records)
            nudge_relay_on_commit()
    except _KeyTaken:
        assert claim is not None
        earlier = claim.earlier()
        if earlier is None:  # held a moment ago by a request that has since committed
            raise RuntimeError("an idempotency key vanished while it was in use") from None
        return _replay(earlier)

    sender = credential_log_fields(credential)
    for batch in batches:
        logger.info(
            "event=rebalance_accepted batch_id=%s world_id=%s scope=%s orders=%d reduce_only=%d "
            "credential_id=%s credential=%s",
            batch.batch_id,
            batch.world_id,
            batch.scope,
            batch.total_orders,
            batch.reduce_only_orders,
            *sender,
        )
    return RebalanceAccepted(batches)
