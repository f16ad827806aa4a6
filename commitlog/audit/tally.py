"""Comparing the records read from the log with the rows the database recorded from them,
batch by batch: each batch's rows looked up by key through the handlers' `rows`, the
records' digests kept by key for the conflicts and the missing rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from commitlog.records import RawRecord, record_key, value_digest
from commitlog.registry import EventHandler, RecordedRow, handler_for, handlers

EXAMPLES = 20  # disagreements described in the summary; the counts hold them all


@dataclass
class Tally:
    records: int = 0
    matched: int = 0
    pending: int = 0  # the row exists, not recorded yet: the consumer is behind, no fault
    missing: int = 0  # recorded rows whose record the log does not hold
    unknown: int = 0  # records no row of the database answers to
    conflicts: int = 0  # a key read with other bytes than another record or row of it
    differs: int = 0  # a row whose record, at its own position, has other bytes
    examples: list[str] = field(default_factory=list)

    @property
    def disagreements(self) -> int:
        return self.missing + self.unknown + self.conflicts + self.differs

    def note(self, text: str) -> None:
        if len(self.examples) < EXAMPLES:
            self.examples.append(text)


def _where(raw: RawRecord) -> str:
    return f"partition {raw.partition} offset {raw.offset}"


class Auditor:
    """Feeds on batches of records; `seen` holds each key's first digest read."""

    def __init__(self) -> None:
        self.tally = Tally()
        self.seen: dict[str, bytes] = {}
        self._by_prefix = {record_key(h.event, ""): h for h in handlers() if h.rows}

    def _handler_of(self, key: str) -> tuple[EventHandler, str] | None:
        prefix, sep, aggregate_id = key.partition(":")
        handler = self._by_prefix.get(prefix + sep)
        return (handler, aggregate_id) if handler and aggregate_id else None

    def feed(self, records: Iterable[RawRecord]) -> None:
        wanted: dict[str, list[tuple[RawRecord, str, str]]] = {}  # event -> (raw, id, digest)
        for raw in records:
            self.tally.records += 1
            key = raw.key.decode("utf-8", errors="replace") if raw.key is not None else ""
            digest = value_digest(raw.value) if raw.value is not None else ""
            first = self.seen.setdefault(key, bytes.fromhex(digest) if digest else b"")
            if first.hex() != digest:
                self.tally.conflicts += 1
                self.tally.note(f"conflict: {key} at {_where(raw)} has other bytes than before")
                continue
            found = self._handler_of(key)
            if found is None:
                self.tally.unknown += 1
                self.tally.note(f"unknown: {key or '(no key)'} at {_where(raw)}")
                continue
            handler, aggregate_id = found
            wanted.setdefault(handler.event, []).append((raw, aggregate_id, digest))
        for event, items in wanted.items():
            rows = _rows(event, [aggregate_id for _, aggregate_id, _ in items])
            for raw, aggregate_id, digest in items:
                self._compare(raw, digest, rows.get(aggregate_id))

    def _compare(self, raw: RawRecord, digest: str, row: RecordedRow | None) -> None:
        key = raw.key.decode("utf-8", errors="replace") if raw.key is not None else ""
        if row is None:
            self.tally.unknown += 1
            self.tally.note(f"unknown: {key} at {_where(raw)}")
        elif not row.recorded:
            self.tally.pending += 1
        elif row.digest in ("", digest):  # empty: recorded before digests were kept
            self.tally.matched += 1
        elif (row.partition, row.offset) == (raw.partition, raw.offset):
            self.tally.differs += 1
            self.tally.note(f"differs: {key} was recorded from other bytes than {_where(raw)}")
        else:
            self.tally.conflicts += 1
            self.tally.note(f"conflict: {key} at {_where(raw)} has other bytes than its row")

    def missing_among(self, rows: Iterable[tuple[str, RecordedRow]]) -> None:
        """Recorded (key, row) pairs whose key no record read had."""
        for key, row in rows:
            if key not in self.seen:
                self.tally.missing += 1
                where = f"partition {row.partition} offset {row.offset}"
                self.tally.note(f"missing: {key}, recorded from {where}, is not in the log")


def _rows(event: str, ids: list[str]) -> dict[str, RecordedRow]:
    lookup = handler_for(event).rows
    return lookup(ids) if lookup else {}
