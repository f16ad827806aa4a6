"""Caps per request (docs/CONFIGURATION.md): how many worlds, batches, orders and, in a
per_strategy batch, strategies one request may carry. A body within the size limit could
otherwise hold tens of thousands of worlds, each a batch, an outbox row and a record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from controlplane.domain.scopes import Scope
from controlplane.errors import TooManyItems

# Each cap's environment variable, named in the refusal so an operator knows what to raise.
CAP_VARIABLES = {
    "max_worlds": "API_MAX_WORLDS_PER_REQUEST",
    "max_batches": "API_MAX_BATCHES_PER_REQUEST",
    "max_orders": "API_MAX_ORDERS_PER_REQUEST",
    "max_strategies_per_batch": "API_MAX_STRATEGIES_PER_BATCH",
}


class Caps(Protocol):
    """The caps, as settings.API_LIMITS holds them (controlplane.api.limits)."""

    @property
    def max_worlds(self) -> int: ...
    @property
    def max_batches(self) -> int: ...
    @property
    def max_orders(self) -> int: ...
    @property
    def max_strategies_per_batch(self) -> int: ...


class _Group(Protocol):
    """What a cap needs of orders.OrderGroup (whose module imports this one)."""

    world_id: str
    scope: Scope
    orders: list[dict[str, Any]]


def _cap(caps: Caps, count: int, cap: str, field: str | None, what: str) -> None:
    limit: int = getattr(caps, cap)
    if count > limit:
        where = f"{field} holds" if field else "the request holds"
        variable = CAP_VARIABLES[cap]
        raise TooManyItems(
            f"{where} {count} {what}; at most {limit} per request ({variable})", field=field
        )


def cap_world_ids(caps: Caps, world_ids: Sequence[object]) -> None:
    _cap(caps, len(world_ids), "max_worlds", "world_ids", "worlds")


def cap_orders(caps: Caps, orders: Sequence[object], field: str) -> None:
    _cap(caps, len(orders), "max_orders", field, "orders")


def cap_multi_form(
    caps: Caps,
    per_world: Mapping[str, Sequence[object]],
    global_orders: Sequence[object],
    per_strategy: Sequence[object],
) -> None:
    """Before any order is read: the multi-world form's worlds and orders."""
    _cap(caps, len(per_world), "max_worlds", "per_world", "worlds")
    total = sum(len(orders) for orders in per_world.values()) + len(global_orders)
    _cap(caps, total + len(per_strategy), "max_orders", None, "orders")


def cap_groups(caps: Caps, groups: Iterable[_Group]) -> None:
    """Once orders are grouped: the batches, and the strategies of each per_strategy batch."""
    groups = list(groups)
    worlds = {group.world_id for group in groups}
    _cap(caps, len(worlds), "max_worlds", None, "worlds")
    _cap(caps, len(groups), "max_batches", None, "batches")
    for group in groups:
        if group.scope is not Scope.PER_STRATEGY:
            continue
        strategies = {entry.get("strategy_id") for entry in group.orders}
        what = f"strategies for the per_strategy batch of {group.world_id!r}"
        _cap(caps, len(strategies), "max_strategies_per_batch", None, what)
