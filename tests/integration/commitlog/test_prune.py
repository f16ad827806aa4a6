"""Retention against a real PostgreSQL and broker: what goes, what always stays, and that a
replay of the whole topic after pruning applies nothing twice."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from commitlog.conf import CommitLogSettings
from commitlog.models import (
    ConsumedRecord,
    ConsumerPosition,
    InvalidRecord,
    OutboxEvent,
    OutboxState,
    RecordConflict,
    UnreadRecord,
)
from commitlog.upkeep.prune import commitlog_prune
from controlplane.models import RebalanceBatch, StrategySubmission
from controlplane.services.rebalancing import rebalance_submit
from tests.support.flow import consume_to_end, relay_all, submit_strategies
from tests.support.requests import single_batch

pytestmark = pytest.mark.django_db(transaction=True)

OLD = timedelta(days=30)


def age(ids: list[str], by: timedelta = OLD) -> None:
    """Move these submissions' outbox rows back in time, and as many dedup marks (the
    oldest: marks are written in the order they were read, which is not outbox order)."""
    rows = OutboxEvent.objects.filter(aggregate_id__in=ids)
    for row in rows:
        OutboxEvent.objects.filter(pk=row.pk).update(
            created_at=row.created_at - by,
            published_at=row.published_at - by if row.published_at else None,
        )
    oldest = ConsumedRecord.objects.order_by("id").values_list("id", flat=True)[: len(ids)]
    ConsumedRecord.objects.filter(id__in=list(oldest)).update(consumed_at=timezone.now() - by)


def recorded_state() -> dict[str, tuple[Any, ...]]:
    fields = ("status", "recorded_at", "commitlog_partition", "commitlog_offset")
    state = {
        str(row[0]): row[1:]
        for row in StrategySubmission.objects.values_list("strategy_id", *fields)
    }
    state |= {row[0]: row[1:] for row in RebalanceBatch.objects.values_list("batch_id", *fields)}
    return state


def test_pruning_keeps_pending_dead_unread_and_young_rows(commitlog: CommitLogSettings) -> None:
    ids = submit_strategies(8)
    relay_all()
    consume_to_end(commitlog, heartbeat_s=0)
    assert not UnreadRecord.objects.exists()  # every record read back
    old_read, (unread, pending, dead), old_after, young = ids[:2], ids[2:5], ids[5:7], ids[7]
    age(ids[:7])
    # What a live system holds beside its history: a published row not read back yet, a
    # row back to pending (republished), a dead one; and the walk must go past them.
    row = OutboxEvent.objects.get(aggregate_id=unread)
    assert row.published_at is not None
    UnreadRecord.objects.create(outbox_id=row.id, key=row.key, published_at=row.published_at)
    OutboxEvent.objects.filter(aggregate_id=pending).update(state=OutboxState.PENDING)
    OutboxEvent.objects.filter(aggregate_id=dead).update(state=OutboxState.DEAD, last_error="x")
    for model in (InvalidRecord, RecordConflict):
        model.objects.all().delete()
    InvalidRecord.objects.create(topic="t", partition=0, offset=1, error="old")
    InvalidRecord.objects.update(received_at=timezone.now() - OLD)
    InvalidRecord.objects.create(topic="t", partition=0, offset=2, error="young")
    ConsumerPosition.objects.create(
        group="gone", topic="t", partition=0, committed_offset=0, end_offset=0
    )
    ConsumerPosition.objects.filter(group="gone").update(updated_at=timezone.now() - OLD)

    run = commitlog_prune(days=7, batch_size=2)

    kept = set(OutboxEvent.objects.values_list("aggregate_id", flat=True))
    assert kept == {unread, pending, dead, young}
    assert run.deleted["outbox rows"] == len(old_read) + len(old_after)
    newest_mark = ConsumedRecord.objects.order_by("id").last()
    assert list(ConsumedRecord.objects.all()) == [newest_mark]
    assert list(InvalidRecord.objects.values_list("error", flat=True)) == ["young"]
    assert not ConsumerPosition.objects.filter(group="gone").exists()
    assert ConsumerPosition.objects.filter(group=commitlog.commitlog_group).exists()
    assert StrategySubmission.objects.count() == 8  # the business record stays
    assert run.transactions > len(run.deleted)  # slices of two rows, not one statement
    assert commitlog_prune(days=7).total == 0  # nothing left to go


def test_the_command_dry_run_counts_and_deletes_nothing_then_prunes(
    commitlog: CommitLogSettings,
) -> None:
    ids = submit_strategies(3)
    relay_all()
    consume_to_end(commitlog, heartbeat_s=0)
    age(ids)
    out, err = StringIO(), StringIO()
    call_command("prune_commitlog", "--dry-run", stdout=out, stderr=err)
    assert "would delete 3 outbox rows, 3 dedup marks" in out.getvalue()
    assert OutboxEvent.objects.count() == 3

    call_command("prune_commitlog", "--days", "7", "--batch-size", "2", stdout=out, stderr=err)
    assert "deleted 3 outbox rows, 3 dedup marks" in out.getvalue()
    assert "outbox rows: 3 deleted" in err.getvalue()  # progress, slice by slice
    assert OutboxEvent.objects.count() == 0
    assert ConsumedRecord.objects.count() == 0


def test_a_full_replay_after_pruning_applies_nothing_twice(commitlog: CommitLogSettings) -> None:
    submit_strategies(5)
    rebalance_submit(request=single_batch("w1", [{"symbol": "A", "quantity": 1}]))
    relay_all()
    first = consume_to_end(commitlog, heartbeat_s=0)
    assert first.applied == 6
    before = recorded_state()
    assert {state[0] for state in before.values()} == {"recorded"}

    run = commitlog_prune(days=0)  # everything read back is history at once
    assert (run.deleted["outbox rows"], run.deleted["dedup marks"]) == (6, 6)

    replay = consume_to_end(commitlog, group="replay-after-prune", from_beginning=True)
    assert (replay.records, replay.applied, replay.duplicates) == (6, 0, 6)
    assert replay.conflicts == 0
    assert recorded_state() == before  # nothing applied again, nothing rebuilt
    assert ConsumedRecord.objects.count() == 0  # the domain rows answered: no marks again
    assert (StrategySubmission.objects.count(), RebalanceBatch.objects.count()) == (5, 1)
