"""Checking record payloads before they may change state (a rebuild trusts them fully)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from commitlog.records import CommitLogRecord, Event, InvalidRecord, checked_record, loads

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
    # The DAG, or its JSON text when it was checked without being built (see
    # decode_ingest): only a rebuild needs it.
    dag_source: dict[str, Any] | bytes
    node_ids_crc32: int
    insert_sentinel: bool
    compute_context: dict[str, Any]
    world_ids: list[str]
    meta: dict[str, Any] | None
    submitted_at: datetime

    @property
    def dag(self) -> dict[str, Any]:
        if isinstance(self.dag_source, bytes):
            dag: dict[str, Any] = loads(self.dag_source)
            return dag
        return self.dag_source

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


def parse_ingest(record: CommitLogRecord, dag_text: bytes | None = None) -> IngestState:
    """`dag_text`: the DAG's JSON text, already checked, when the payload does not hold it."""
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
    dag_source: dict[str, Any] | bytes
    if dag_text is None:
        dag = _require(payload, "dag", dict)
        if not isinstance(dag.get("nodes"), list):
            raise InvalidRecord("payload.dag has no nodes list")
        dag_source = dag
    else:
        dag_source = dag_text
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
        dag_source=dag_source,
        node_ids_crc32=crc,
        insert_sentinel=_require(payload, "insert_sentinel", bool),
        compute_context=_require(payload, "compute_context", dict),
        world_ids=world_ids,
        meta=meta,
        submitted_at=_timestamp(payload),
    )


class _IngestWire(msgspec.Struct, forbid_unknown_fields=False):
    """An ingest payload with its DAG left as JSON text; the rest decoded as usual."""

    event: Any = msgspec.UNSET
    version: Any = msgspec.UNSET
    strategy_id: Any = msgspec.UNSET
    dag_hash: Any = msgspec.UNSET
    dag: msgspec.Raw = msgspec.Raw()
    dag_base64: Any = msgspec.UNSET
    node_ids_crc32: Any = msgspec.UNSET
    insert_sentinel: Any = msgspec.UNSET
    compute_context: Any = msgspec.UNSET
    world_ids: Any = msgspec.UNSET
    world_id: Any = msgspec.UNSET
    meta: Any = msgspec.UNSET
    submitted_at: Any = msgspec.UNSET


class _DagShape(msgspec.Struct, forbid_unknown_fields=False):
    """What parse_ingest asks of a DAG: an object with a `nodes` list (nodes left as text)."""

    nodes: list[msgspec.Raw]


_INGEST_PREFIX = b'["gateway.ingest",'
_ingest_wire = msgspec.json.Decoder(tuple[str, int, str, _IngestWire])
_dag_shape = msgspec.json.Decoder(_DagShape)


def decode_ingest(value: bytes) -> tuple[CommitLogRecord, IngestState] | None:
    """An ingest record as the relay writes it, checked without building its DAG.

    Building the DAG's objects, and freeing them, was most of what decoding a record
    cost the consumer, which needs the DAG only to rebuild a missing submission. The
    record's payload here lacks `dag` and any field the contract does not name. None when
    this path cannot decide (another event or layout, anything msgspec refuses, a check
    that fails): decode_value and check_payload then decode the record in full and say
    what is wrong with it, so what is refused, and why, does not change.
    """
    if not value.startswith(_INGEST_PREFIX):
        return None
    try:
        event, timestamp_ms, record_id, wire = _ingest_wire.decode(value)
        dag = bytes(wire.dag)
        _dag_shape.decode(dag)
    except msgspec.MsgspecError:
        return None
    payload = {
        name: field
        for name in wire.__struct_fields__
        if name != "dag" and (field := getattr(wire, name)) is not msgspec.UNSET
    }
    try:
        record = checked_record([event, timestamp_ms, record_id, payload])
        return record, parse_ingest(record, dag)
    except InvalidRecord:
        return None


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
    if scope == "per_strategy" and not all(isinstance(e.get("order"), dict) for e in orders):
        raise InvalidRecord("payload.orders of a per_strategy batch must be {..., order} entries")
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
