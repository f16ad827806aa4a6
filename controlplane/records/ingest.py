"""The `gateway.ingest` record: its payload built (ingest_payload) and parsed
(parse_ingest, and decode_ingest for the layout the relay writes), in one place."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from commitlog.records import CommitLogRecord, RecordRefused, checked_record, loads
from controlplane.domain import dag as dags
from controlplane.domain.clock import Stamp
from controlplane.domain.compute_context import ComputeContext
from controlplane.records import Event
from controlplane.records.fields import SHA256, require, timestamp

INGEST_PAYLOAD_VERSION = 1


def ingest_payload(
    *,
    strategy_id: str,
    submitted_dag_hash: str,
    stored_dag: dict[str, Any],
    node_ids_crc32: int,
    insert_sentinel: bool,
    compute_context: ComputeContext,
    world_ids: list[str],
    meta: Any,
    stamp: Stamp,
    stored_dag_text: str | None = None,
) -> dict[str, Any]:
    """The `gateway.ingest` payload of docs/API.md (`stored_dag_text`: dag_text of the
    stored DAG, when the caller has it)."""
    payload: dict[str, Any] = {
        "event": Event.INGEST.value,
        "version": INGEST_PAYLOAD_VERSION,
        "strategy_id": strategy_id,
        "dag_hash": submitted_dag_hash,
        "dag": stored_dag,
        "dag_base64": dags.dag_base64(stored_dag, stored_dag_text),
        "node_ids_crc32": node_ids_crc32,
        "insert_sentinel": insert_sentinel,
        "compute_context": compute_context.as_payload(),
        "world_ids": world_ids,
        "world_id": world_ids[0],
        "submitted_at": stamp.iso,
    }
    if meta:  # qmtl leaves the key out when meta is null or empty
        payload["meta"] = meta
    return payload


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


def parse_ingest(record: CommitLogRecord, dag_text: bytes | None = None) -> IngestState:
    """`dag_text`: the DAG's JSON text, already checked, when the payload does not hold it."""
    payload = record.payload
    try:
        strategy_id = uuid.UUID(record.id)
    except ValueError as exc:
        raise RecordRefused("ingest id is not a UUID") from exc
    if payload.get("strategy_id") != record.id:
        raise RecordRefused("payload.strategy_id differs from the record id")
    dag_hash = require(payload, "dag_hash", str)
    if not SHA256.match(dag_hash):
        raise RecordRefused("payload.dag_hash is not a SHA-256 hex digest")
    dag_source: dict[str, Any] | bytes
    if dag_text is None:
        dag = require(payload, "dag", dict)
        if not isinstance(dag.get("nodes"), list):
            raise RecordRefused("payload.dag has no nodes list")
        dag_source = dag
    else:
        dag_source = dag_text
    crc = require(payload, "node_ids_crc32", int)
    if not 0 <= crc <= 0xFFFFFFFF:
        raise RecordRefused("payload.node_ids_crc32 is out of range")
    world_ids = require(payload, "world_ids", list)
    if not world_ids or not all(isinstance(w, str) and w for w in world_ids):
        raise RecordRefused("payload.world_ids must be a non-empty list of strings")
    meta = payload.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise RecordRefused("payload.meta must be an object or null")
    return IngestState(
        strategy_id=strategy_id,
        dag_hash=dag_hash,
        dag_source=dag_source,
        node_ids_crc32=crc,
        insert_sentinel=require(payload, "insert_sentinel", bool),
        compute_context=require(payload, "compute_context", dict),
        world_ids=world_ids,
        meta=meta,
        submitted_at=timestamp(payload),
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
    that fails): decode_value and parse_ingest then decode the record in full and say
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
    except RecordRefused:
        return None
