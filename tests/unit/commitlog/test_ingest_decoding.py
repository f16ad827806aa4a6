"""The consumer's fast decoding of ingest records, which checks the DAG without building
it, against decoding them in full: the same records pass, with the same state and DAG,
and the same ones are refused, with the same error.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from commitlog.consumer.applier import Decoded, Refused, decode
from commitlog.records import CommitLogRecord, RawRecord, RecordRefused, decode_value
from commitlog.registry import handler_for
from controlplane.records.ingest import IngestState, decode_ingest
from tests.support.bodies import examples
from tests.support.values import json_values, timestamps

STRATEGY_ID = str(uuid.UUID(int=7))
BASE: dict[str, Any] = {
    "event": "gateway.ingest",
    "version": 1,
    "strategy_id": STRATEGY_ID,
    "dag_hash": "a" * 64,
    "dag": {"nodes": [{"node_id": "n1", "params": {"window": 5}}], "name": "s"},
    "dag_base64": "e30=",
    "node_ids_crc32": 5,
    "insert_sentinel": True,
    "compute_context": {"execution_domain": "live"},
    "world_ids": ["w1"],
    "world_id": "w1",
    "meta": None,
    "submitted_at": "2026-01-01T00:00:00+00:00",
}
REMOVED = object()

dags = st.builds(
    lambda extra, nodes: {**extra, "nodes": nodes},
    st.dictionaries(st.text(max_size=6), json_values, max_size=3),
    st.lists(json_values, max_size=4),
) | json_values.filter(lambda v: not (isinstance(v, dict) and isinstance(v.get("nodes"), list)))
changes = st.dictionaries(
    st.sampled_from([*BASE, "unknown"]), json_values | st.just(REMOVED), max_size=2
)


def compact(body: Any) -> bytes:
    """As the relay's encoder writes a record (no spaces, UTF-8)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def state_fields(state: object) -> tuple[Any, ...]:
    assert isinstance(state, IngestState)
    return (
        state.strategy_id,
        state.dag_hash,
        state.dag,
        state.node_ids_crc32,
        state.insert_sentinel,
        state.compute_context,
        state.world_ids,
        state.meta,
        state.submitted_at,
    )


def in_full(raw: RawRecord) -> tuple[Any, ...]:
    """What decoding the whole record gives: the reference."""
    try:
        record = decode_value(raw.value)
        if raw.key != record.key.encode():
            return ("refused", "key")
        state = handler_for(record.event).parse(record)
        return ("ok", record.key, record.timestamp_ms, state_fields(state))
    except RecordRefused as exc:
        return ("refused", str(exc))


def by_consumer(raw: RawRecord) -> tuple[Any, ...]:
    item = decode(raw)
    if isinstance(item, Refused):
        return ("refused", "key" if item.error.startswith("key ") else item.error)
    assert isinstance(item, Decoded)
    return ("ok", item.record.key, item.record.timestamp_ms, state_fields(item.state))


def test_a_record_as_the_relay_writes_it_takes_the_fast_path() -> None:
    value = compact(["gateway.ingest", 1, STRATEGY_ID, BASE])
    fast = decode_ingest(value)
    assert fast is not None
    record, state = fast
    assert isinstance(state.dag_source, bytes)  # the DAG was not built
    assert state.dag == BASE["dag"]
    assert record == CommitLogRecord(record.event, 1, STRATEGY_ID, record.payload)
    assert "dag" not in record.payload


@settings(max_examples=examples(400), deadline=None)
@given(
    dag=dags,
    change=changes,
    timestamp=timestamps | json_values,
    record_id=st.just(STRATEGY_ID) | st.text(max_size=8),
)
def test_the_fast_path_passes_and_refuses_exactly_what_full_decoding_does(
    dag: Any, change: dict[str, Any], timestamp: Any, record_id: Any
) -> None:
    payload = {**BASE, "dag": dag}
    for name, value in change.items():
        if value is REMOVED:
            payload.pop(name, None)
        else:
            payload[name] = value
    value = compact(["gateway.ingest", timestamp, record_id, payload])
    key = f"ingest:{record_id}".encode() if isinstance(record_id, str) else b"ingest:?"
    raw = RawRecord("t", 0, 0, key, value)
    event("fast path" if decode_ingest(value) else "decoded in full")
    assert by_consumer(raw) == in_full(raw)
