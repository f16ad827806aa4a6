"""Caps per request (README, Configuration): how many worlds, batches, orders and, in a
per_strategy batch, strategies one request may carry. A body within the size limit could
otherwise hold tens of thousands of worlds, each a batch, an outbox row and a record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from django.conf import settings

from controlplane.exceptions import TooManyItems
from controlplane.models import Scope


class _Group(Protocol):
    """What a cap needs of rebalance_groups.OrderGroup (which imports this module)."""

    world_id: str
    scope: Scope
    orders: list[dict[str, Any]]


def _cap(count: int, setting: str, field: str | None, what: str) -> None:
    limit: int = getattr(settings, setting)
    if count > limit:
        where = f"{field} holds" if field else "the request holds"
        raise TooManyItems(
            f"{where} {count} {what}; at most {limit} per request ({setting})", field=field
        )


def cap_world_ids(world_ids: Sequence[object]) -> None:
    _cap(len(world_ids), "API_MAX_WORLDS_PER_REQUEST", "world_ids", "worlds")


def cap_orders(orders: Sequence[object], field: str) -> None:
    _cap(len(orders), "API_MAX_ORDERS_PER_REQUEST", field, "orders")


def cap_multi_form(
    per_world: Mapping[str, Sequence[object]],
    global_orders: Sequence[object],
    per_strategy: Sequence[object],
) -> None:
    """Before any order is read: the multi-world form's worlds and orders."""
    _cap(len(per_world), "API_MAX_WORLDS_PER_REQUEST", "per_world", "worlds")
    total = sum(len(orders) for orders in per_world.values()) + len(global_orders)
    _cap(total + len(per_strategy), "API_MAX_ORDERS_PER_REQUEST", None, "orders")


def cap_groups(groups: Iterable[_Group]) -> None:
    """Once orders are grouped: the batches, and the strategies of each per_strategy batch."""
    groups = list(groups)
    worlds = {group.world_id for group in groups}
    _cap(len(worlds), "API_MAX_WORLDS_PER_REQUEST", None, "worlds")
    _cap(len(groups), "API_MAX_BATCHES_PER_REQUEST", None, "batches")
    for group in groups:
        if group.scope is not Scope.PER_STRATEGY:
            continue
        strategies = {entry.get("strategy_id") for entry in group.orders}
        what = f"strategies for the per_strategy batch of {group.world_id!r}"
        _cap(len(strategies), "API_MAX_STRATEGIES_PER_BATCH", None, what)
