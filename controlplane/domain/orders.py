"""A rebalance request, cleaned once: orders checked and grouped by (world, scope), one
group per batch to be. Orders are kept exactly as given."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from controlplane.domain import widths
from controlplane.domain.compute_context import normalize_execution_domain
from controlplane.domain.identifiers import check_canonical, check_identifier
from controlplane.domain.json_values import coerce_json
from controlplane.domain.request_caps import Caps, cap_groups, cap_multi_form, cap_orders
from controlplane.domain.scopes import Scope
from controlplane.errors import (
    ApplicationError,
    InvalidIdentifier,
    InvalidOrders,
    InvalidRequest,
    ShadowOrdersBlocked,
)
from controlplane.errors import codes as error_codes

GLOBAL_WORLD = "global"
# Keys that carry an order's quantity, in order of precedence.
QUANTITY_KEYS = ("quantity", "qty", "delta_qty")
# An order's keys that are ids (beside its symbol) when they are strings.
ORDER_ID_KEYS = ("strategy_id", "mode", "execution_domain")


@dataclass
class OrderGroup:
    """One batch to be: its world and scope, and its `orders` as the record holds them
    (the orders themselves, or for `per_strategy` the `{world_id, strategy_id, order}`
    entries as given)."""

    world_id: str
    scope: Scope
    orders: list[dict[str, Any]] = field(default_factory=list)

    def plain_orders(self) -> list[dict[str, Any]]:
        """The orders themselves, unwrapped from per_strategy entries."""
        if self.scope is Scope.PER_STRATEGY:
            return [entry["order"] for entry in self.orders]
        return self.orders

    def reduce_only_count(self) -> int:
        return sum(1 for order in self.plain_orders() if order.get("reduce_only") is True)


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond a double
        return False


def _check_quantity(order: Mapping[str, Any], where: str) -> None:
    for key in QUANTITY_KEYS:
        if key in order:
            value = order[key]
            number_ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not number_ok or not _finite(value):
                raise InvalidOrders(
                    f"{where}.{key} must be a finite number", field=f"{where}.{key}"
                )
            return
    raise InvalidOrders(f"{where} needs a quantity ({' or '.join(QUANTITY_KEYS)})", field=where)


def _check_width(value: object, limit: int, where: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        raise InvalidOrders(f"{where} is longer than {limit} characters", field=where)


def clean_order(order: object, where: str) -> dict[str, Any]:
    """Validate one order; it is kept exactly as given (`reduce_only` absent means false)."""
    if not isinstance(order, dict):
        raise InvalidOrders(f"{where} is not an object", field=where)
    symbol = order.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise InvalidOrders(f"{where}.symbol must be a non-empty string", field=f"{where}.symbol")
    for key in ("symbol", *ORDER_ID_KEYS):
        check_identifier(order.get(key), f"{where}.{key}")
        _check_width(order.get(key), widths.ORDER_IDS[key], f"{where}.{key}")
    _check_quantity(order, where)
    if not isinstance(order.get("reduce_only", False), bool):
        raise InvalidOrders(
            f"{where}.reduce_only must be true or false", field=f"{where}.reduce_only"
        )
    cleaned: dict[str, Any] = coerce_json(order)
    return cleaned


def _world(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidOrders(f"{where} must be a non-empty string", field=where)
    check_identifier(value, where)
    world_id = value.strip()
    check_canonical(world_id, where)
    if len(world_id) > widths.WORLD_ID:
        raise InvalidOrders(f"{where} is longer than {widths.WORLD_ID} characters", field=where)
    return world_id


def _strategy_entry(entry: object, where: str) -> tuple[str, dict[str, Any]]:
    """A per_strategy entry `{world_id, strategy_id, order}`: its world and the entry as given."""
    if not isinstance(entry, dict):
        raise InvalidOrders(
            f"{where} is not an object {{world_id, strategy_id, order}}", field=where
        )
    world = _world(entry.get("world_id"), f"{where}.world_id")
    strategy_id = entry.get("strategy_id")
    if not isinstance(strategy_id, str) or not strategy_id.strip():
        raise InvalidOrders(
            f"{where}.strategy_id must be a non-empty string", field=f"{where}.strategy_id"
        )
    check_identifier(strategy_id, f"{where}.strategy_id")
    _check_width(strategy_id, widths.STRATEGY_ID, f"{where}.strategy_id")
    order = clean_order(entry.get("order"), f"{where}.order")
    if order.get("strategy_id", strategy_id) != strategy_id:
        raise InvalidOrders(
            f"{where}.order.strategy_id differs from {where}.strategy_id",
            field=f"{where}.order.strategy_id",
        )
    cleaned: dict[str, Any] = coerce_json(entry)
    cleaned["order"] = order
    return world, cleaned


# How many bad orders one refusal names: enough to fix a request in a round trip, few
# enough that a request of 10,000 bad orders is not answered with all of them.
MAX_ORDER_ERRORS = 50
T = TypeVar("T")


class _Errors:
    """The refusals of a request's orders, gathered so that one answer names each."""

    def __init__(self) -> None:
        self.found: list[ApplicationError] = []

    def check(self, judge: Callable[..., T], *args: Any) -> T | None:
        try:
            return judge(*args)
        except (InvalidOrders, InvalidIdentifier) as exc:
            self.found.append(exc)
            if len(self.found) >= MAX_ORDER_ERRORS:
                raise ApplicationError.gathered(self.found) from None
            return None

    def raise_any(self) -> None:
        if self.found:
            raise ApplicationError.gathered(self.found)


def _single_entry(world: str, order: object, where: str) -> dict[str, Any]:
    entry_world, entry = _strategy_entry(order, where)
    if entry_world != world:
        raise InvalidOrders(f"{where}.world_id differs from world_id", field=f"{where}.world_id")
    return entry


def _group(groups: dict[tuple[str, Scope], OrderGroup], world_id: str, scope: Scope) -> OrderGroup:
    return groups.setdefault((world_id, scope), OrderGroup(world_id, scope))


def group_single(
    world_id: object, scope: str, orders: Sequence[object], *, caps: Caps
) -> list[OrderGroup]:
    """The single-batch form `{world_id, scope, orders}`; for `per_strategy` its orders are
    `{world_id, strategy_id, order}` entries of that world."""
    try:
        parsed_scope = Scope(scope)
    except ValueError:
        raise InvalidOrders(f"scope must be one of {', '.join(Scope.values)}") from None
    if parsed_scope is Scope.GLOBAL and world_id in (None, ""):
        world = GLOBAL_WORLD
    elif not isinstance(world_id, str) or not world_id.strip():
        # The orders may be fine: it is the request that lacks its world.
        raise InvalidRequest(f"world_id is required for a {scope} batch", field="world_id")
    else:
        world = _world(world_id, "world_id")
    cap_orders(caps, orders, "orders")
    group = OrderGroup(world, parsed_scope)
    errors = _Errors()
    for index, order in enumerate(orders):
        where = f"orders[{index}]"
        if parsed_scope is Scope.PER_STRATEGY:
            cleaned = errors.check(_single_entry, world, order, where)
        else:
            cleaned = errors.check(clean_order, order, where)
        if cleaned is not None:
            group.orders.append(cleaned)
    errors.raise_any()
    cap_groups(caps, [group])
    return [group]


def group_multi(
    per_world: Mapping[str, Sequence[object]] | None,
    global_orders: Sequence[object] | None,
    per_strategy: Sequence[object] | None,
    *,
    caps: Caps,
) -> list[OrderGroup]:
    """The multi-world form; groups come out in request order, empty ones dropped."""
    cap_multi_form(caps, per_world or {}, global_orders or [], per_strategy or [])
    groups: dict[tuple[str, Scope], OrderGroup] = {}
    errors = _Errors()
    for raw_world, orders in (per_world or {}).items():
        world = errors.check(_world, raw_world, f"per_world key {raw_world!r}")
        for index, order in enumerate(orders):
            cleaned = errors.check(clean_order, order, f"per_world[{raw_world!r}][{index}]")
            if world is not None and cleaned is not None:
                _group(groups, world, Scope.PER_WORLD).orders.append(cleaned)
    for index, order in enumerate(global_orders or []):
        cleaned = errors.check(clean_order, order, f"global[{index}]")
        if cleaned is not None:
            _group(groups, GLOBAL_WORLD, Scope.GLOBAL).orders.append(cleaned)
    for index, raw_entry in enumerate(per_strategy or []):
        judged = errors.check(_strategy_entry, raw_entry, f"per_strategy[{index}]")
        if judged is not None:
            _group(groups, judged[0], Scope.PER_STRATEGY).orders.append(judged[1])
    errors.raise_any()
    found = [group for group in groups.values() if group.orders]
    cap_groups(caps, found)
    return found


def _blocks_orders(value: object) -> bool:
    return isinstance(value, str) and normalize_execution_domain(value) == "shadow"


def _check_not_shadow(
    mode: str | None, execution_domain: str | None, groups: Sequence[OrderGroup]
) -> None:
    if _blocks_orders(mode) or _blocks_orders(execution_domain):
        raise ShadowOrdersBlocked("orders are blocked in the shadow execution domain")
    for group in groups:
        for order in group.plain_orders():
            if _blocks_orders(order.get("execution_domain")) or _blocks_orders(order.get("mode")):
                raise ShadowOrdersBlocked(
                    f"order for {order['symbol']!r} in {group.world_id} targets the shadow domain"
                )


@dataclass(frozen=True)
class RebalanceRequest:
    """What `rebalance_submit` stores: non-empty groups, in request order."""

    groups: tuple[OrderGroup, ...]
    mode: str | None = None
    shared_account: bool = False
    execution_domain: str | None = None


def rebalance_request(fields: Mapping[str, Any], *, caps: Caps) -> RebalanceRequest:
    """The cleaned request from fields whose types the API's serializer has checked:
    `{world_id, scope, orders}` or `{per_world, global, per_strategy}`, with `mode`,
    `shared_account` and `execution_domain`."""
    if "orders" in fields:
        found = group_single(fields.get("world_id"), fields["scope"], fields["orders"], caps=caps)
    else:
        found = group_multi(
            fields.get("per_world"), fields.get("global"), fields.get("per_strategy"), caps=caps
        )
    groups = tuple(group for group in found if group.orders)
    if not groups:
        raise InvalidOrders("the request has no orders", code=error_codes.NO_ORDERS)
    mode, domain = fields.get("mode"), fields.get("execution_domain")
    _check_not_shadow(mode, domain, groups)
    return RebalanceRequest(
        groups=groups,
        mode=mode,
        shared_account=bool(fields.get("shared_account", False)),
        execution_domain=domain,
    )
