"""Applying one polled batch of commit-log records to the database, exactly once.

No Kafka here: the batch comes in as plain RawRecords, and what goes out is the offsets
to commit once the database transaction has committed.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from commitlog.consumer.kept import kept_bound, kept_part
from commitlog.consumer.refused import refused_store
from commitlog.models import ConsumedRecord, RecordConflict
from commitlog.records import (
    CommitLogRecord,
    RawRecord,
    RecordRefused,
    decode_value,
    value_digest,
)
from commitlog.registry import Delivered, apply_records, fast_decoders, handler_for
from commitlog.signing import RecordSigner, record_signer
from commitlog.unread import unread_remove


@dataclass(frozen=True)
class Decoded:
    raw: RawRecord
    record: CommitLogRecord
    state: Any  # what the event's handler parsed
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
    applied_by_event: Counter[str] = field(default_factory=Counter)
    # (topic, partition) -> the next offset to read, i.e. the one to commit
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)

    def add(self, other: BatchOutcome) -> None:
        self.records += other.records
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.invalid += other.invalid
        self.conflicts += other.conflicts
        self.applied_by_event.update(other.applied_by_event)


def _fast_decode(value: bytes) -> tuple[CommitLogRecord, Any] | None:
    for decoder in fast_decoders():
        found = decoder(value)
        if found is not None:
            return found
    return None


def decode(raw: RawRecord, signer: RecordSigner | None = None) -> Decoded | Refused:
    if signer is not None:
        refusal = signer.refusal(raw.key, raw.value, raw.headers)
        if refusal is not None:
            return Refused(raw, refusal)
    try:
        fast = _fast_decode(raw.value) if raw.value is not None else None
        record = fast[0] if fast else decode_value(raw.value)
        if raw.key is None or raw.key.decode("utf-8", errors="replace") != record.key:
            raise RecordRefused(f"key {raw.key!r} does not match the record ({record.key})")
        state = fast[1] if fast else handler_for(record.event).parse(record)
    except RecordRefused as exc:
        return Refused(raw, str(exc))
    assert raw.value is not None  # decode_value refuses a missing value
    return Decoded(raw, record, state, value_digest(raw.value))


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
    # One array per column: the statement has nine parameters whatever the batch size.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO commitlog_consumedrecord
                (key, event, record_id, value_sha256, topic, partition, "offset", rebuilt,
                 consumed_at)
            SELECT v.k, v.e, v.r, v.d, v.t, v.p, v.o, false, %s
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                        %s::integer[], %s::bigint[]) WITH ORDINALITY AS v(k, e, r, d, t, p, o, n)
            ORDER BY v.n
            ON CONFLICT (key) DO NOTHING
            RETURNING key
            """,
            [
                timezone.now(),
                [item.record.key for item in candidates],
                [item.record.event for item in candidates],
                [item.record.id for item in candidates],
                [item.digest for item in candidates],
                [item.raw.topic for item in candidates],
                [item.raw.partition for item in candidates],
                [item.raw.offset for item in candidates],
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def _drop_marks(keys: set[str]) -> None:
    if keys:
        ConsumedRecord.objects.filter(key__in=keys).delete()


def _applied_digests(keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    return dict(ConsumedRecord.objects.filter(key__in=keys).values_list("key", "value_sha256"))


def _conflict_row(c: Conflict, bound: int) -> RecordConflict:
    """Its value cut as a refused record's is (commitlog.consumer.kept): whoever can write
    to the topic could otherwise grow the table by whole records."""
    value = kept_part(c.decoded.raw.value, bound)
    return RecordConflict(
        key=c.decoded.record.key,
        event=c.decoded.record.event,
        record_id=c.decoded.record.id,
        reason=c.reason,
        value=value.data,
        value_length=value.length,
        value_sha256=c.decoded.digest,  # of the whole value
        applied_sha256=c.applied_digest,
        topic=c.decoded.raw.topic,
        partition=c.decoded.raw.partition,
        offset=c.decoded.raw.offset,
    )


def _store_conflicts(conflicts: list[Conflict]) -> None:
    if not conflicts:
        return
    bound = kept_bound()
    RecordConflict.objects.bulk_create(
        [_conflict_row(c, bound) for c in conflicts], ignore_conflicts=True
    )


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a batch is decoded and applied.

    Decoding 500 records builds some 150,000 JSON containers, and JSON trees have no
    reference cycles to find. With the collector running they set off several collections,
    and one resumed while the batch was still alive walked all of them (4 ms per
    collection, 12 ms per batch in a consumer process). Paused until the batch has been
    freed by reference counting, they are never walked at all. Anything else made here is
    collected as usual once the collector runs again.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def apply_batch(raws: list[RawRecord]) -> BatchOutcome:
    """Decode, dedup and apply the batch in ONE database transaction.

    Identical bytes under an already-applied key are duplicates and change nothing;
    different bytes under an applied key are conflicts, stored for operators.
    """
    with _without_cycle_collection():
        # The decoded batch lives in _apply's frame only, so it is freed before the
        # collector resumes (unless an error's traceback still holds that frame).
        return _apply(raws)


def _apply(raws: list[RawRecord]) -> BatchOutcome:
    outcome = BatchOutcome(records=len(raws), next_offsets=_next_offsets(raws))
    refused: list[Refused] = []
    first_by_key: dict[str, Decoded] = {}
    conflicts: list[Conflict] = []
    signer = record_signer()
    decoded = [decode(raw, signer) for raw in raws]
    for item in decoded:
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
        done = apply_records(
            (c.record.event, Delivered(c.record.id, c.state, c.raw.partition, c.raw.offset,
                                       c.digest))
            for c in new
        )  # fmt: skip
        # After apply_records has locked the submissions and batches, so that a relay
        # that marked them published first has committed its rows to the backlog.
        unread_remove([c.record.key for c in candidates])
        clashed = {(event, clash.aggregate_id): clash for event, clash in done.clashes}
        conflicts += [
            Conflict(c, clash.reason, clash.applied_digest)
            for c in new
            if (clash := clashed.get((c.record.event, c.record.id))) is not None
        ]
        # The domain row answered for these (their mark had been pruned): a replay of old
        # history leaves no new marks behind, and none with bytes that were not applied.
        _drop_marks(done.already | done.already_differs)
        refused_store((item.raw, item.error) for item in refused)
        _store_conflicts(conflicts)

    outcome.duplicates += len(done.already)
    outcome.applied = len(new) - len(clashed) - len(done.already)
    outcome.applied_by_event = Counter(
        c.record.event
        for c in new
        if (c.record.event, c.record.id) not in clashed and c.record.key not in done.already
    )
    outcome.invalid = len(refused)
    outcome.conflicts = len(conflicts)
    return outcome
