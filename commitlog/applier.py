"""Applying one polled batch of commit-log records to the database, exactly once.

No Kafka here: the batch comes in as plain RawRecords, and what goes out is the offsets
to commit once the database transaction has committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from commitlog.handlers import apply_records
from commitlog.models import ConsumedRecord, InvalidRecord, RecordConflict
from commitlog.payloads import BatchState, IngestState, check_payload
from commitlog.records import CommitLogRecord, RawRecord, decode_value
from commitlog.records import InvalidRecord as UndecodableRecord


@dataclass(frozen=True)
class Decoded:
    raw: RawRecord
    record: CommitLogRecord
    state: IngestState | BatchState
    digest: str


@dataclass(frozen=True)
class Refused:
    raw: RawRecord
    error: str


@dataclass(frozen=True)
class Conflict:
    decoded: Decoded
    reason: str
    applied_digest: str = ""


@dataclass
class BatchOutcome:
    records: int = 0
    applied: int = 0
    duplicates: int = 0
    invalid: int = 0
    conflicts: int = 0
    # (topic, partition) -> the next offset to read, i.e. the one to commit
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def add(self, other: BatchOutcome) -> None:
        self.records += other.records
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.invalid += other.invalid
        self.conflicts += other.conflicts


def decode(raw: RawRecord) -> Decoded | Refused:
    try:
        record = decode_value(raw.value)
        if raw.key is None or raw.key.decode("utf-8", errors="replace") != record.key:
            raise UndecodableRecord(f"key {raw.key!r} does not match the record ({record.key})")
        state = check_payload(record)
    except UndecodableRecord as exc:
        return Refused(raw, str(exc))
    assert raw.value is not None  # decode_value refuses a missing value
    return Decoded(raw, record, state, hashlib.sha256(raw.value).hexdigest())


def _next_offsets(raws: Iterable[RawRecord]) -> dict[tuple[str, int], int]:
    offsets: dict[tuple[str, int], int] = {}
    for raw in raws:
        position = (raw.topic, raw.partition)
        offsets[position] = max(offsets.get(position, 0), raw.offset + 1)
    return offsets


def _insert_marks(candidates: list[Decoded]) -> set[str]:
    """Dedup marks for the candidates; returns the keys that were not marked before."""
    if not candidates:
        return set()
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, false, %s)"] * len(candidates))
    now = timezone.now()
    params: list[Any] = []
    for item in candidates:
        params += [
            item.record.key,
            item.record.event.value,
            item.record.id,
            item.digest,
            item.raw.topic,
            item.raw.partition,
            item.raw.offset,
            now,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO commitlog_consumedrecord
                (key, event, record_id, value_sha256, topic, partition, "offset", rebuilt,
                 consumed_at)
            VALUES {values}
            ON CONFLICT (key) DO NOTHING
            RETURNING key
            """,  # noqa: S608  (only placeholders are interpolated)
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def _applied_digests(keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    return dict(ConsumedRecord.objects.filter(key__in=keys).values_list("key", "value_sha256"))


def _store_refused(refused: list[Refused]) -> None:
    InvalidRecord.objects.bulk_create(
        [
            InvalidRecord(
                topic=item.raw.topic,
                partition=item.raw.partition,
                offset=item.raw.offset,
                key=item.raw.key,
                value=item.raw.value,
                error=item.error[:2000],
            )
            for item in refused
        ],
        ignore_conflicts=True,  # redelivered after a crash: already stored
    )


def _store_conflicts(conflicts: list[Conflict]) -> None:
    RecordConflict.objects.bulk_create(
        [
            RecordConflict(
                key=c.decoded.record.key,
                event=c.decoded.record.event.value,
                record_id=c.decoded.record.id,
                reason=c.reason,
                value=c.decoded.raw.value,
                value_sha256=c.decoded.digest,
                applied_sha256=c.applied_digest,
                topic=c.decoded.raw.topic,
                partition=c.decoded.raw.partition,
                offset=c.decoded.raw.offset,
            )
            for c in conflicts
        ],
        ignore_conflicts=True,
    )


def apply_batch(raws: list[RawRecord]) -> BatchOutcome:
    """Decode, dedup and apply the batch in ONE database transaction.

    Identical bytes under an already-applied key are duplicates and change nothing;
    different bytes under an applied key are conflicts, stored for operators.
    """
    outcome = BatchOutcome(records=len(raws), next_offsets=_next_offsets(raws))
    refused: list[Refused] = []
    first_by_key: dict[str, Decoded] = {}
    conflicts: list[Conflict] = []
    for raw in raws:
        item = decode(raw)
        if isinstance(item, Refused):
            refused.append(item)
            continue
        earlier = first_by_key.get(item.record.key)
        if earlier is None:
            first_by_key[item.record.key] = item
        elif earlier.digest == item.digest:
            outcome.duplicates += 1
        else:
            conflicts.append(Conflict(item, "same key, different content", earlier.digest))

    candidates = list(first_by_key.values())
    with transaction.atomic():
        fresh = _insert_marks(candidates)
        seen_before = [c for c in candidates if c.record.key not in fresh]
        applied = _applied_digests([c.record.key for c in seen_before])
        for item in seen_before:
            if applied.get(item.record.key) == item.digest:
                outcome.duplicates += 1
            else:
                reason = "key already applied with different content"
                conflicts.append(Conflict(item, reason, applied.get(item.record.key, "")))
        new = [c for c in candidates if c.record.key in fresh]
        clashes = apply_records([(c.state, c.raw.partition, c.raw.offset) for c in new])
        clashed = {clash.aggregate_id: clash.reason for clash in clashes}
        conflicts += [Conflict(c, clashed[c.record.id]) for c in new if c.record.id in clashed]
        _store_refused(refused)
        _store_conflicts(conflicts)

    outcome.applied = len(new) - len(clashed)
    outcome.invalid = len(refused)
    outcome.conflicts = len(conflicts)
    return outcome
