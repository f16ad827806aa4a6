"""The commit-log record format: a UTF-8 JSON array `[event, timestamp_ms, id, payload]`.

Encoding happens once, when the outbox row is written, so every publish of a row
sends the same bytes; decoding is what the consumer trusts, so it checks the shape.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


class RecordRefused(ValueError):
    """A record the consumer cannot take: not a well-formed tuple, an event nobody
    registered, or a payload its event's handler refuses."""


@dataclass(frozen=True)
class CommitLogRecord:
    event: str
    timestamp_ms: int
    id: str
    payload: dict[str, Any]

    @property
    def key(self) -> str:
        return record_key(self.event, self.id)


def record_key(event: str, record_id: str) -> str:
    """`<the event's last dotted part>:<id>`: `gateway.ingest` records are `ingest:<id>`."""
    return f"{event.rpartition('.')[2]}:{record_id}"


def encode_value(record: CommitLogRecord) -> bytes:
    body = [record.event, record.timestamp_ms, record.id, record.payload]
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def value_digest(value: bytes) -> str:
    """The SHA-256 a record is known by: of its value's bytes, in hex, as the consumer
    records it with the row it applied."""
    return hashlib.sha256(value).hexdigest()


def loads(value: bytes) -> Any:
    """A record value's JSON, read as UTF-8 (json.loads alone would also guess UTF-16 or -32)."""
    return json.loads(value.decode("utf-8"))


def decode_value(value: bytes | None) -> CommitLogRecord:
    """Parse a record value; raises RecordRefused saying what is wrong."""
    if value is None:
        raise RecordRefused("record has no value")
    try:
        body = loads(value)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RecordRefused(f"value is not UTF-8 JSON: {exc}") from exc
    return checked_record(body)


def checked_record(body: Any) -> CommitLogRecord:
    """The record a decoded `[event, timestamp_ms, id, payload]` holds; RecordRefused if none."""
    if not isinstance(body, list) or len(body) != 4:
        raise RecordRefused("value is not a 4-element JSON array")
    event, timestamp_ms, record_id, payload = body
    # Whether anything handles the event is the applier's question (commitlog.registry).
    if not isinstance(event, str) or not event:
        raise RecordRefused(f"event {event!r} is not a non-empty string")
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int) or timestamp_ms < 0:
        raise RecordRefused("timestamp_ms is not a non-negative integer")
    if not isinstance(record_id, str) or not record_id:
        raise RecordRefused("id is not a non-empty string")
    if not isinstance(payload, dict):
        raise RecordRefused("payload is not a JSON object")
    if payload.get("event") != event:
        raise RecordRefused("payload event does not match the tuple's event")
    return CommitLogRecord(event, timestamp_ms, record_id, payload)


@dataclass(frozen=True)
class RawRecord:
    """A record as it came off the log, before anything trusts it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, str | bytes | None], ...] = ()
