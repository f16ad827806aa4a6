"""Reads for the API and the admin."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from controlplane import access
from controlplane.models import ApiCredential, RebalanceBatch, StrategySubmission


def strategy_status(*, strategy_id: str, viewer: ApiCredential | None = None) -> str | None:
    """The submission's status, or None when the id is unknown, not a UUID, or not one
    the `viewer` may see (so that the answer does not tell which)."""
    try:
        parsed = uuid.UUID(strategy_id)
    except ValueError:
        return None
    found = (
        StrategySubmission.objects.filter(strategy_id=parsed)
        .values_list("status", "credential_id", "world_ids")
        .first()
    )
    if found is None or not access.may_see_strategy(viewer, found[1], found[2]):
        return None
    status: str = found[0]
    return status


def strategies_visible_to(viewer: ApiCredential | None, strategy_ids: Iterable[str]) -> set[str]:
    """Which of `strategy_ids` name a stored strategy the `viewer` may see (one query)."""
    parsed = {}
    for raw in strategy_ids:
        try:
            parsed[uuid.UUID(raw)] = raw
        except ValueError:
            continue  # not a UUID: no strategy of this service has that id
    found = StrategySubmission.objects.filter(strategy_id__in=list(parsed)).values_list(
        "strategy_id", "credential_id", "world_ids"
    )
    return {
        parsed[strategy_id]
        for strategy_id, sender_id, world_ids in found
        if access.may_see_strategy(viewer, sender_id, world_ids)
    }


def batch_status(*, batch_id: str, viewer: ApiCredential | None = None) -> RebalanceBatch | None:
    """A rebalance batch (its state, counts and trace times; not its orders), or None
    when the id is unknown or not one the `viewer` may see."""
    batch = RebalanceBatch.objects.filter(batch_id=batch_id).defer("orders").first()
    if batch is None or not access.may_see_batch(
        viewer, batch.credential_id, batch.world_id, batch.scope
    ):
        return None
    return batch
