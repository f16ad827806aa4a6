"""What each event does to the state: plain functions of (records, database), no Kafka."""

from __future__ import annotations

from django.utils import timezone

from commitlog.models import ConsumedRecord
from commitlog.payloads import BatchState, IngestState
from commitlog.records import Event, record_key
from controlplane.services.lifecycle import Clash, Recorded, record_batches, record_submissions


def apply_records(items: list[tuple[IngestState | BatchState, int, int]]) -> list[Clash]:
    """Apply new (not yet marked applied) records inside the caller's transaction.

    `gateway.ingest` records move their submission to recorded, rebuilding it when this
    database does not have it; `gateway.rebalance` records do the same for batches.
    """
    now = timezone.now()
    ingest = [Recorded(s, p, o) for s, p, o in items if isinstance(s, IngestState)]
    rebalance = [Recorded(s, p, o) for s, p, o in items if isinstance(s, BatchState)]
    submissions = record_submissions(ingest, at=now)
    batches = record_batches(rebalance, at=now)
    rebuilt_keys = [record_key(Event.INGEST, i) for i in submissions.rebuilt]
    rebuilt_keys += [record_key(Event.REBALANCE, i) for i in batches.rebuilt]
    if rebuilt_keys:
        ConsumedRecord.objects.filter(key__in=rebuilt_keys).update(rebuilt=True)
    return submissions.clashes + batches.clashes
