"""What a credential may send and see, by its worlds and rebalance scopes (set in the
admin; an empty list allows every world or every scope).

- A submission may be sent when every one of its worlds is allowed.
- A rebalance batch may be sent when its world and its scope are allowed; the global
  batch's world is `global`, so a credential limited to worlds sends global orders only
  when `global` is among them.
- A credential limited to worlds names in a `per_strategy` order only strategies it may
  see: an unknown id is refused like another tenant's, so the answer does not tell
  whether that strategy exists.
- A DAG is unique within the submitting credential's scope (controlplane.domain.tenancy):
  credentials limited to the same worlds share one, unlimited ones the global one.
- A credential sees (status reads, the id in a 409) what it sent and what it could have
  sent. Rows without a credential (written before attribution, rebuilt from the log) are
  seen by whoever is allowed all of their worlds.

A call without a credential (anonymous, dev only) is unlimited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from controlplane.domain.tenancy import GLOBAL_SCOPE, dag_owner_scope
from controlplane.errors import Forbidden
from controlplane.models import ApiCredential


def _allows(allowed: Sequence[str], value: str) -> bool:
    return not allowed or value in allowed


def _sent_it(credential: ApiCredential | None, sender_id: int | None) -> bool:
    return credential is not None and sender_id == credential.pk


def owner_scope(credential: ApiCredential | None) -> str:
    """The scope a DAG submitted with `credential` is unique in."""
    return dag_owner_scope(credential.allowed_worlds) if credential is not None else GLOBAL_SCOPE


def may_use_world(credential: ApiCredential | None, world_id: str) -> bool:
    return credential is None or _allows(credential.allowed_worlds, world_id)


def may_use_scope(credential: ApiCredential | None, scope: str) -> bool:
    return credential is None or _allows(credential.allowed_scopes, scope)


def check_strategy_worlds(credential: ApiCredential | None, world_ids: Iterable[str]) -> None:
    """Raises Forbidden (403 E_FORBIDDEN) unless every world is allowed."""
    for world_id in world_ids:
        if not may_use_world(credential, world_id):
            raise Forbidden(f"this credential may not submit to world {world_id!r}")


def check_batches(credential: ApiCredential | None, batches: Iterable[tuple[str, str]]) -> None:
    """Raises Forbidden unless every (world, scope) is allowed."""
    for world_id, scope in batches:
        if not may_use_scope(credential, scope):
            raise Forbidden(f"this credential may not send {scope} orders")
        if not may_use_world(credential, world_id):
            raise Forbidden(f"this credential may not send orders to world {world_id!r}")


def may_see_strategy(
    credential: ApiCredential | None, sender_id: int | None, world_ids: Iterable[str]
) -> bool:
    return _sent_it(credential, sender_id) or all(
        may_use_world(credential, world_id) for world_id in world_ids
    )


def may_see_batch(
    credential: ApiCredential | None, sender_id: int | None, world_id: str, scope: str
) -> bool:
    return _sent_it(credential, sender_id) or (
        may_use_world(credential, world_id) and may_use_scope(credential, scope)
    )


def is_limited_to_worlds(credential: ApiCredential | None) -> bool:
    return credential is not None and bool(credential.allowed_worlds)


def check_strategies_named(named: Iterable[str], visible: set[str]) -> None:
    """Raises Forbidden for the first strategy id in `named` not in `visible` (the ones
    the credential may see). For a credential limited to worlds: any other may name any
    strategy, and its caller need not look the strategies up."""
    for strategy_id in named:
        if strategy_id not in visible:
            raise Forbidden(f"this credential may not send orders for strategy {strategy_id!r}")
