"""Retention against a real PostgreSQL and broker: what goes, what always stays, and that a
replay of the whole topic after pruning applies nothing twice."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest

from commitlog.conf import CommitLogSettings
from commitlog.models import (
    OutboxEvent,
    OutboxState,
    UnreadRecord,
)
from commitlog.upkeep.prune import commitlog_prune
from commitlog.upkeep.reconcile import outbox_republish_unread
from controlplane.models import StrategySubmission
from tests.support.flow import relay_all, submit_strategies
from tests.support.processes import SUMMARY, consumer_env, retire, service_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FRESH = timedelta(seconds=60)


def test_a_prune_beside_a_live_relay_consumer_and_reconciler_loses_nothing(
    commitlog: CommitLogSettings,
) -> None:
    consumer = service_process(["manage.py", "consume_commitlog"], consumer_env(commitlog))
    try:
        consumer.wait_for_line("event=consumer_assigned", 60)
        ids: list[str] = []
        pruned = 0
        for round_ in range(6):
            ids += submit_strategies(5, prefix=f"live{round_}-")
            relay_all()
            # Everything read back is history at once: the prune races the consumer's
            # marks, and the reconciler's republished rows come back with no mark left.
            pruned += commitlog_prune(days=0, batch_size=3).deleted["outbox rows"]
            outbox_republish_unread(older_than=timedelta(0), consumer_fresh_within=FRESH)
        relay_all()  # what the reconciler put back

        def settled() -> bool:
            unpublished = OutboxEvent.objects.exclude(state=OutboxState.PUBLISHED)
            recorded = StrategySubmission.objects.filter(status="recorded").count()
            backlog = unpublished.exists() or UnreadRecord.objects.exists()
            return recorded == len(ids) and not backlog

        wait_for(settled, 90, "every submission recorded and every outbox row read back")
        pruned += commitlog_prune(days=0).deleted["outbox rows"]
        consumer.signal(signal.SIGTERM)
        assert consumer.wait(30) == 0, consumer.output()
        output = consumer.output()
    finally:
        retire(consumer)

    summary = SUMMARY.search(output)
    assert summary is not None, output
    assert int(summary.group(2)) == len(ids)  # applied: each submission once, none twice
    assert int(summary.group(5)) == 0  # no conflicts
    assert pruned >= len(ids)  # the prune did run beside them
    assert not OutboxEvent.objects.exists()
    assert StrategySubmission.objects.count() == len(ids)
