"""The `gateway.rebalance` record: its payload built (rebalance_payload) and parsed
(parse_rebalance), in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commitlog.records import CommitLogRecord, RecordRefused
from controlplane.records import Event
from controlplane.records.fields import require, timestamp

REBALANCE_PAYLOAD_VERSION = 1
SCOPES = ("per_world", "global", "per_strategy")


def rebalance_payload(
    *, batch_id: str, world_id: str, scope: str, orders: list[dict[str, Any]], reduce_only: int,
    mode: str | None, shared_account: bool, submitted_at: str,
) -> dict[str, Any]:  # fmt: skip
    """The `gateway.rebalance` payload of docs/API.md: `orders` as the batch holds them
    (for per_strategy, the `{world_id, strategy_id, order}` entries)."""
    total = len(orders)
    payload: dict[str, Any] = {
        "event": Event.REBALANCE.value,
        "version": REBALANCE_PAYLOAD_VERSION,
        "batch_id": batch_id,
        "world_id": world_id,
        "scope": scope,
        "orders": orders,
        "counts": {"total": total, "reduce_only": reduce_only},
        "reduce_only_ratio": reduce_only / total,
        "submitted_at": submitted_at,
    }
    if mode is not None:
        payload["mode"] = mode
    if shared_account:
        payload["shared_account"] = True
    return payload


@dataclass(frozen=True)
class BatchState:
    batch_id: str
    world_id: str
    scope: str
    orders: list[dict[str, Any]]
    total: int
    reduce_only: int
    reduce_only_ratio: float
    mode: str
    shared_account: bool
    submitted_at: datetime


def parse_rebalance(record: CommitLogRecord) -> BatchState:
    payload = record.payload
    if payload.get("batch_id") != record.id:
        raise RecordRefused("payload.batch_id differs from the record id")
    scope = require(payload, "scope", str)
    if scope not in SCOPES:
        raise RecordRefused(f"payload.scope {scope!r} is unknown")
    orders = require(payload, "orders", list)
    if not orders or not all(isinstance(order, dict) for order in orders):
        raise RecordRefused("payload.orders must be a non-empty list of objects")
    if scope == "per_strategy" and not all(isinstance(e.get("order"), dict) for e in orders):
        raise RecordRefused("payload.orders of a per_strategy batch must be {..., order} entries")
    counts = require(payload, "counts", dict)
    total, reduce_only = counts.get("total"), counts.get("reduce_only")
    if total != len(orders) or not isinstance(reduce_only, int) or not 0 <= reduce_only <= total:
        raise RecordRefused("payload.counts do not match the orders")
    mode = payload.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise RecordRefused("payload.mode must be a string")
    shared = payload.get("shared_account", False)
    if not isinstance(shared, bool):
        raise RecordRefused("payload.shared_account must be true or false")
    return BatchState(
        batch_id=record.id,
        world_id=require(payload, "world_id", str),
        scope=scope,
        orders=orders,
        total=total,
        reduce_only=reduce_only,
        reduce_only_ratio=float(require(payload, "reduce_only_ratio", (int, float))),
        mode=mode or "",
        shared_account=shared,
        submitted_at=timestamp(payload),
    )
