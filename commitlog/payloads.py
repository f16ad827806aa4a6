"""Checking record payloads before they may change state (a rebuild trusts them fully)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commitlog.records import CommitLogRecord, Event, InvalidRecord

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SCOPES = ("per_world", "global", "per_strategy")


def _require(payload: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = payload.get(name)
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise InvalidRecord(f"payload.{name} must be a number")
    if not isinstance(value, kind):
        raise InvalidRecord(f"payload.{name} is missing or of the wrong type")
    return value


def _timestamp(payload: dict[str, Any]) -> datetime:
    text = _require(payload, "submitted_at", str)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRecord("payload.submitted_at is not an ISO-8601 timestamp") from exc
    if parsed.tzinfo is None:
        raise InvalidRecord("payload.submitted_at has no time zone")
    return parsed


@dataclass(frozen=True)
class IngestState:
    strategy_id: uuid.UUID
    dag_hash: str
    dag: dict[str, Any]
    node_ids_crc32: int
    insert_sentinel: bool
    compute_context: dict[str, Any]
    world_ids: list[str]
    meta: dict[str, Any] | None
    submitted_at: datetime

    @property
    def execution_domain(self) -> str:
        return str(self.compute_context.get("execution_domain") or "")

    @property
    def downgrade_reason(self) -> str:
        return str(self.compute_context.get("downgrade_reason") or "")


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


def parse_ingest(record: CommitLogRecord) -> IngestState:
    payload = record.payload
    try:
        strategy_id = uuid.UUID(record.id)
    except ValueError as exc:
        raise InvalidRecord("ingest id is not a UUID") from exc
    if payload.get("strategy_id") != record.id:
        raise InvalidRecord("payload.strategy_id differs from the record id")
    dag_hash = _require(payload, "dag_hash", str)
    if not _SHA256.match(dag_hash):
        raise InvalidRecord("payload.dag_hash is not a SHA-256 hex digest")
    dag = _require(payload, "dag", dict)
    if not isinstance(dag.get("nodes"), list):
        raise InvalidRecord("payload.dag has no nodes list")
    crc = _require(payload, "node_ids_crc32", int)
    if not 0 <= crc <= 0xFFFFFFFF:
        raise InvalidRecord("payload.node_ids_crc32 is out of range")
    world_ids = _require(payload, "world_ids", list)
    if not world_ids or not all(isinstance(w, str) and w for w in world_ids):
        raise InvalidRecord("payload.world_ids must be a non-empty list of strings")
    meta = payload.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise InvalidRecord("payload.meta must be an object or null")
    return IngestState(
        strategy_id=strategy_id,
        dag_hash=dag_hash,
        dag=dag,
        node_ids_crc32=crc,
        insert_sentinel=_require(payload, "insert_sentinel", bool),
        compute_context=_require(payload, "compute_context", dict),
        world_ids=world_ids,
        meta=meta,
        submitted_at=_timestamp(payload),
    )


def parse_rebalance(record: CommitLogRecord) -> BatchState:
    payload = record.payload
    if payload.get("batch_id") != record.id:
        raise InvalidRecord("payload.batch_id differs from the record id")
    scope = _require(payload, "scope", str)
    if scope not in _SCOPES:
        raise InvalidRecord(f"payload.scope {scope!r} is unknown")
    orders = _require(payload, "orders", list)
    if not orders or not all(isinstance(order, dict) for order in orders):
        raise InvalidRecord("payload.orders must be a non-empty list of objects")
    counts = _require(payload, "counts", dict)
    total, reduce_only = counts.get("total"), counts.get("reduce_only")
    if total != len(orders) or not isinstance(reduce_only, int) or not 0 <= reduce_only <= total:
        raise InvalidRecord("payload.counts do not match the orders")
    mode = payload.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise InvalidRecord("payload.mode must be a string")
    shared = payload.get("shared_account", False)
    if not isinstance(shared, bool):
        raise InvalidRecord("payload.shared_account must be true or false")
    return BatchState(
        batch_id=record.id,
        world_id=_require(payload, "world_id", str),
        scope=scope,
        orders=orders,
        total=total,
        reduce_only=reduce_only,
        reduce_only_ratio=float(_require(payload, "reduce_only_ratio", (int, float))),
        mode=mode or "",
        shared_account=shared,
        submitted_at=_timestamp(payload),
    )


def check_payload(record: CommitLogRecord) -> IngestState | BatchState:
    """The typed state a record carries; InvalidRecord when it could not be applied."""
    if record.event is Event.INGEST:
        return parse_ingest(record)
    return parse_rebalance(record)
