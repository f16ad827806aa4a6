"""A strategy submission, cleaned once: the DAG decoded and checked against its checksum,
the context computed. What `strategy_submit` takes without checking it again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controlplane.domain import dag as dags
from controlplane.domain import widths
from controlplane.domain.compute_context import (
    ACCEPTED_CONTEXT_KEYS,
    ComputeContext,
    build_compute_context,
)
from controlplane.domain.identifiers import check_identifier
from controlplane.domain.json_values import coerce_json
from controlplane.domain.worlds import WorldIds
from controlplane.errors import InvalidContext, InvalidRequest


@dataclass(frozen=True)
class StrategyRequest:
    dag: dict[str, Any]  # as submitted: the sentinel is added when it is stored
    dag_hash: str
    node_ids_crc32: int
    world_ids: WorldIds
    meta: dict[str, Any] | None
    compute_context: ComputeContext


def _check_context_keys(context: Mapping[str, Any] | None) -> None:
    if not context:
        return
    unknown = sorted(set(context) - ACCEPTED_CONTEXT_KEYS)
    if unknown:
        raise InvalidContext(
            f"unknown context keys: {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(ACCEPTED_CONTEXT_KEYS))}"
        )


def _check_free_form(value: Mapping[str, Any] | None, name: str) -> None:
    """meta and context: at most widths.META_KEYS keys in all, and no key or string
    longer than widths.META_STRING characters."""
    keys = 0
    stack: list[object] = [value] if value else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys += len(item)
            if keys > widths.META_KEYS:
                raise InvalidRequest(f"{name} holds more than {widths.META_KEYS} keys", field=name)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and len(item) > widths.META_STRING:
            raise InvalidRequest(
                f"{name} holds a string longer than {widths.META_STRING} characters", field=name
            )


def strategy_request(
    *,
    dag_json: str | Mapping[str, Any],
    node_ids_crc32: int,
    world_ids: WorldIds,
    meta: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
    max_depth: int,
) -> StrategyRequest:
    """Clean fields whose types the API's serializer has checked (and whose JSON the
    bounded parser has: `meta` and `context` hold no NUL and no lone surrogate).

    Raises InvalidDag, ChecksumMismatch, InvalidContext or InvalidIdentifier.
    """
    submitted = dags.decode_dag_json(dag_json, max_depth=max_depth)
    dags.verify_checksum(dags.node_ids(submitted), node_ids_crc32)
    _check_context_keys(context)
    _check_free_form(meta, "meta")
    _check_free_form(context, "context")
    clean_meta = coerce_json(meta) if meta is not None else None
    compute_context = build_compute_context(
        world_ids=world_ids,
        meta=clean_meta if isinstance(clean_meta, dict) else None,
        overrides=context,
    )
    domain = compute_context.execution_domain
    check_identifier(domain, "execution_domain")
    if len(domain or "") > widths.EXECUTION_DOMAIN:
        limit = widths.EXECUTION_DOMAIN
        raise InvalidContext(f"execution_domain is longer than {limit} characters")
    return StrategyRequest(
        dag=submitted,
        dag_hash=dags.dag_hash(submitted),
        node_ids_crc32=node_ids_crc32,
        world_ids=world_ids,
        meta=clean_meta if isinstance(clean_meta, dict) else None,
        compute_context=compute_context,
    )
