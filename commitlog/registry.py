"""What each event does to the state, registered by the app that owns the event (in its
AppConfig.ready()). The commit-log machinery calls the handlers and knows nothing of them:
no Kafka in a handler, no domain in here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from django.utils import timezone

from commitlog.models import ConsumedRecord
from commitlog.records import CommitLogRecord, RecordRefused, record_key


class Delivered(NamedTuple):
    """A record new to this database: what its handler's `parse` made of it, where it
    was read, and its value's SHA-256."""

    record_id: str
    state: Any
    partition: int
    offset: int
    digest: str


class PublishedAt(NamedTuple):  # one per relayed row: a tuple is cheap to build
    aggregate_id: str
    partition: int
    offset: int


class RecordedRow(NamedTuple):
    """What a row says of its record, for the audit: where it was read from and the
    SHA-256 of the bytes it was recorded from (empty before it is recorded)."""

    aggregate_id: str
    recorded: bool
    partition: int | None
    offset: int | None
    digest: str
    recorded_at: datetime | None


@dataclass(frozen=True)
class Clash:
    aggregate_id: str
    reason: str
    applied_digest: str = ""  # set when the row was already recorded from other bytes


@dataclass
class Outcome:
    """What `apply` did, by aggregate id: the clashes for operators, the rows rebuilt from
    their record, and those already recorded from the same bytes (whose dedup mark may
    have been pruned: the domain row answers for it)."""

    clashes: list[Clash] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EventHandler:
    event: str
    # The record's typed state; RecordRefused when it may not change anything.
    parse: Callable[[CommitLogRecord], Any]
    # Records new to this database, applied in the consumer's batch transaction.
    apply: Callable[[list[Delivered], datetime], Outcome]
    # Rows the relay has just published, in the relay's mark transaction; returns the ids
    # not recorded yet (the records the consumer still has to read back).
    published: Callable[[list[PublishedAt], datetime], set[str]]
    # A faster decoding of the value for the records it recognises, else None.
    decode: Callable[[bytes], tuple[CommitLogRecord, Any] | None] | None = None
    # The admin page of an aggregate, for links from the log's own pages.
    admin_url: Callable[[str], str] | None = None
    # For the audit: the rows of these ids, through their key (the ids it has no row of
    # are left out), and the recorded rows submitted in [since, until) (since None: all),
    # read through an index in that order.
    rows: Callable[[list[str]], dict[str, RecordedRow]] | None = None
    recorded_between: Callable[[datetime | None, datetime], Iterator[RecordedRow]] | None = None


_handlers: dict[str, EventHandler] = {}
FastDecoder = Callable[[bytes], tuple[CommitLogRecord, Any] | None]
# Kept with the registry: the consumer asks for them once per record.
_fast_decoders: tuple[FastDecoder, ...] = ()


def register(handler: EventHandler) -> None:
    global _fast_decoders
    _handlers[handler.event] = handler
    _fast_decoders = tuple(h.decode for h in _handlers.values() if h.decode is not None)


def handler_for(event: str) -> EventHandler:
    """The handler of `event`; RecordRefused when no app registered one."""
    found = _handlers.get(event)
    if found is None:
        raise RecordRefused(f"unknown event {event!r}")
    return found


def registered_events() -> list[str]:
    return sorted(_handlers)


def handlers() -> list[EventHandler]:
    return [_handlers[event] for event in sorted(_handlers)]


def fast_decoders() -> tuple[FastDecoder, ...]:
    return _fast_decoders


def admin_url(event: str, aggregate_id: str) -> str | None:
    found = _handlers.get(event)
    return found.admin_url(aggregate_id) if found and found.admin_url else None


@dataclass
class Applied:
    """What the records did, by record key where the log needs it."""

    clashes: list[tuple[str, Clash]] = field(default_factory=list)  # (event, clash)
    already: set[str] = field(default_factory=set)
    already_differs: set[str] = field(default_factory=set)


def apply_records(items: Iterable[tuple[str, Delivered]]) -> Applied:
    """Apply (event, record) pairs new to this database, inside the caller's transaction,
    each event's records by its own handler."""
    now = timezone.now()
    by_event: dict[str, list[Delivered]] = {}
    for event, item in items:
        by_event.setdefault(event, []).append(item)
    applied = Applied()
    rebuilt_keys: list[str] = []
    for event, delivered in by_event.items():
        outcome = handler_for(event).apply(delivered, now)
        rebuilt_keys += [record_key(event, i) for i in outcome.rebuilt]
        applied.clashes += [(event, clash) for clash in outcome.clashes]
        applied.already.update(record_key(event, i) for i in outcome.already)
        applied.already_differs.update(
            record_key(event, c.aggregate_id) for c in outcome.clashes if c.applied_digest
        )
    if rebuilt_keys:
        ConsumedRecord.objects.filter(key__in=rebuilt_keys).update(rebuilt=True)
    return applied


def mark_published(rows: Iterable[tuple[str, PublishedAt]], *, at: datetime) -> set[str]:
    """Tell each event's handler which of its rows were published; returns the ids not
    recorded yet."""
    by_event: dict[str, list[PublishedAt]] = {}
    for event, row in rows:
        by_event.setdefault(event, []).append(row)
    unrecorded: set[str] = set()
    for event, published in by_event.items():
        unrecorded |= handler_for(event).published(published, at)
    return unrecorded
