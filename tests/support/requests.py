"""Cleaned requests for tests that call the services directly: through the API's own
serializers, the one validation pass, so a test never builds a request the API refuses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from controlplane.api.serializers import RebalanceIn, StrategySubmitIn
from controlplane.domain.orders import RebalanceRequest
from controlplane.domain.submission import StrategyRequest


def strategy_request_of(
    *,
    dag_json: str,
    node_ids_crc32: int,
    world_ids: Sequence[str],
    meta: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> StrategyRequest:
    body: dict[str, Any] = {
        "dag_json": dag_json,
        "node_ids_crc32": node_ids_crc32,
        "world_ids": list(world_ids),
        "meta": meta,
        "context": context,
    }
    incoming = StrategySubmitIn(data=body)
    incoming.is_valid(raise_exception=True)
    request: StrategyRequest = incoming.validated_data
    return request


def rebalance_request_of(body: Mapping[str, Any]) -> RebalanceRequest:
    incoming = RebalanceIn(data=dict(body))
    incoming.is_valid(raise_exception=True)
    request: RebalanceRequest = incoming.validated_data
    return request


def single_batch(world_id: str, orders: list[dict[str, Any]], **extra: Any) -> RebalanceRequest:
    """`{world_id, scope: per_world, orders}`, with `mode` or `shared_account` in `extra`."""
    return rebalance_request_of(
        {"world_id": world_id, "scope": "per_world", "orders": orders, **extra}
    )
