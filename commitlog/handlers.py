"""What each event does to the state: plain functions of (records, database), no Kafka."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from commitlog.models import ConsumedRecord
from commitlog.payloads import BatchState, IngestState
from commitlog.records import Event, record_key
from controlplane.services.lifecycle import Clash, Recorded, record_batches, record_submissions


@dataclass(frozen=True)
class Applied:
    """What the records did: clashes for operators, and the keys whose record was already
    recorded (by the domain row, whose dedup mark may have been pruned) from the same bytes
    or from others."""

    clashes: list[Clash] = field(default_factory=list)
    already: set[str] = field(default_factory=set)
    already_differs: set[str] = field(default_factory=set)


def apply_records(items: list[tuple[IngestState | BatchState, int, int, str]]) -> Applied:
    """Apply new (not yet marked applied) records inside the caller's transaction.

    Each item is (state, partition, offset, value SHA-256). `gateway.ingest` records move
    their submission to recorded, rebuilding it when this database does not have it;
    `gateway.rebalance` records do the same for batches.
    """
    now = timezone.now()
    ingest = [Recorded(s, p, o, d) for s, p, o, d in items if isinstance(s, IngestState)]
    rebalance = [Recorded(s, p, o, d) for s, p, o, d in items if isinstance(s, BatchState)]
    submissions = record_submissions(ingest, at=now)
    batches = record_batches(rebalance, at=now)
    rebuilt_keys = [record_key(Event.INGEST, i) for i in submissions.rebuilt]
    rebuilt_keys += [record_key(Event.REBALANCE, i) for i in batches.rebuilt]
    if rebuilt_keys:
        ConsumedRecord.objects.filter(key__in=rebuilt_keys).update(rebuilt=True)
    applied = Applied(clashes=submissions.clashes + batches.clashes)
    for event, outcome in ((Event.INGEST, submissions), (Event.REBALANCE, batches)):
        applied.already.update(record_key(event, i) for i in outcome.already)
        applied.already_differs.update(
            record_key(event, c.aggregate_id) for c in outcome.clashes if c.applied_digest
        )
    return applied
