"""Reads for the API and the admin."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from controlplane.models import RebalanceBatch, StrategySubmission


def strategy_status(*, strategy_id: str) -> str | None:
    """The submission's status, or None when the id is unknown or not a UUID."""
    try:
        parsed = uuid.UUID(strategy_id)
    except ValueError:
        return None
    return (
        StrategySubmission.objects.filter(strategy_id=parsed)
        .values_list("status", flat=True)
        .first()
    )


def _stamp(at: datetime | None) -> str | None:
    return at.isoformat(timespec="milliseconds") if at is not None else None


def batch_status(*, batch_id: str) -> dict[str, Any] | None:
    """A rebalance batch's state, counts and trace times, or None when the id is unknown."""
    batch = RebalanceBatch.objects.filter(batch_id=batch_id).defer("orders").first()
    if batch is None:
        return None
    return {
        "batch_id": batch.batch_id,
        "status": batch.status,
        "world_id": batch.world_id,
        "scope": batch.scope,
        "counts": {"total": batch.total_orders, "reduce_only": batch.reduce_only_orders},
        "reduce_only_ratio": batch.reduce_only_ratio,
        "submitted_at": _stamp(batch.submitted_at),
        "published_at": _stamp(batch.published_at),
        "recorded_at": _stamp(batch.recorded_at),
        "commitlog_partition": batch.commitlog_partition,
        "commitlog_offset": batch.commitlog_offset,
    }
