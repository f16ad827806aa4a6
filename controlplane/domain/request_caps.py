"""Caps per request (docs/CONFIGURATION.md): how many worlds, batches, orders and, in a
per_strategy batch, strategies one request may carry. A body within the size limit could
otherwise hold tens of thousands of worlds, each a batch, an outbox row and a record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from django.conf import settings

from controlplane.api.limits import CAP_VARIABLES
from controlplane.errors import TooManyItems
from controlplane.models import Scope


class _Group(Protocol):
    """What a cap needs of rebalance_groups.OrderGroup (which imports this module)."""

    world_id: str
    scope: Scope
    orders: list[dict[str, Any]]


def _cap(count: int, cap: str, field: str | None, what: str) -> None:
    limit: int = getattr(settings.API_LIMITS, cap)
    if count > limit:
        where = f"{field} holds" if field else "the request holds"
        variable = CAP_VARIABLES[cap]
        raise TooManyItems(
            f"{where} {count} {what}; at most {limit} per request ({variable})", field=field
        )


def cap_world_ids(world_ids: Sequence[object]) -> None:
    _cap(len(world_ids), "max_worlds", "world_ids", "worlds")


def cap_orders(orders: Sequence[object], field: str) -> None:
    _cap(len(orders), "max_orders", field, "orders")


def cap_multi_form(
    per_world: Mapping[str, Sequence[object]],
    global_orders: Sequence[object],
    per_strategy: Sequence[object],
) -> None:
    """Before any order is read: the multi-world form's worlds and orders."""
    _cap(len(per_world), "max_worlds", "per_world", "worlds")
    total = sum(len(orders) for orders in per_world.values()) + len(global_orders)
    _cap(total + len(per_strategy), "max_orders", None, "orders")


def cap_groups(groups: Iterable[_Group]) -> None:
    """Once orders are grouped: the batches, and the strategies of each per_strategy batch."""
    groups = list(groups)
    worlds = {group.world_id for group in groups}
    _cap(len(worlds), "max_worlds", None, "worlds")
    _cap(len(groups), "max_batches", None, "batches")
    for group in groups:
        if group.scope is not Scope.PER_STRATEGY:
            continue
        strategies = {entry.get("strategy_id") for entry in group.orders}
        what = f"strategies for the per_strategy batch of {group.world_id!r}"
        _cap(len(strategies), "max_strategies_per_batch", None, what)
