"""Record encoding and JSON coercion (pure code)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from commitlog.records import CommitLogRecord, RecordRefused, decode_value, encode_value
from commitlog.registry import handler_for, registered_events
from controlplane.domain.json_bounds import json_depth
from controlplane.domain.json_values import coerce_json
from controlplane.records import Event


def test_record_value_is_a_json_array_and_round_trips() -> None:
    record = CommitLogRecord(Event.INGEST, 1700000000123, "sid", {"event": "gateway.ingest"})
    value = encode_value(record)
    assert json.loads(value) == [
        "gateway.ingest",
        1700000000123,
        "sid",
        {"event": "gateway.ingest"},
    ]
    assert decode_value(value) == record
    assert record.key == "ingest:sid"
    assert CommitLogRecord(Event.REBALANCE, 1, "w:1", {}).key == "rebalance:w:1"


def test_encoding_keeps_unicode_as_utf8() -> None:
    record = CommitLogRecord(Event.INGEST, 1, "sid", {"event": "gateway.ingest", "m": "세계"})
    assert "세계".encode() in encode_value(record)


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"\xff\xfe",
        b"not json",
        b"{}",
        b'["gateway.ingest", 1, "sid"]',
        b'["gateway.ingest", "1", "sid", {"event": "gateway.ingest"}]',
        b'["gateway.ingest", true, "sid", {"event": "gateway.ingest"}]',
        b'["gateway.ingest", 1, "", {"event": "gateway.ingest"}]',
        b'["gateway.ingest", 1, "sid", []]',
        b'["gateway.ingest", 1, "sid", {"event": "gateway.rebalance"}]',
        b'\xef\xbb\xbf["gateway.ingest", 1, "sid", {"event": "gateway.ingest"}]',
        b'["gateway.ingest", 1, "sid", {"event": "gateway.ingest", "m": "\xed\xa0\x80"}]',
        b'["gateway.ingest", 1, "sid", {"event": "gateway.ingest"}] trailing',
        b"[" * 100_000,
    ],
)
def test_malformed_values_are_invalid_records(value: bytes | None) -> None:
    with pytest.raises(RecordRefused):
        decode_value(value)


def test_an_event_no_app_registered_is_refused_and_the_domain_events_are_registered() -> None:
    # The applier asks the registry: tests/test_applier.py stores such a record as invalid.
    decode_value(b'["gateway.unknown", 1, "sid", {"event": "gateway.unknown"}]')
    with pytest.raises(RecordRefused, match="unknown event"):
        handler_for("gateway.unknown")
    assert registered_events() == sorted(event.value for event in Event)


def test_meta_coercion() -> None:
    coerced = coerce_json(
        {
            1: "int key",
            "tuple": (1, 2),
            "set": {3, 1, 2},
            "mixed_set": {1, "a"},
            "decimal": Decimal("1.5"),
            "nested": {"t": ((1,),)},
            "nan": float("nan"),
            "ok": [True, None, 1.5, "s"],
        }
    )
    assert coerced == {
        "1": "int key",
        "tuple": [1, 2],
        "set": [1, 2, 3],
        "mixed_set": sorted([1, "a"], key=repr),
        "decimal": "1.5",
        "nested": {"t": [[1]]},
        "nan": "nan",
        "ok": [True, None, 1.5, "s"],
    }
    json.dumps(coerced, allow_nan=False)


def test_json_depth() -> None:
    assert json_depth(1) == 0
    assert json_depth({}) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4
