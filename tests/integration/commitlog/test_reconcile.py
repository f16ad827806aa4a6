"""Rows the log lost (a broker restart without durable storage) are republished and end
recorded; nothing is republished while the consumer is behind or silent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from commitlog.conf import commitlog_settings
from commitlog.consumer.applier import apply_batch
from commitlog.models import ConsumerPosition, OutboxEvent, OutboxState, UnreadRecord
from commitlog.records import RawRecord
from commitlog.upkeep.reconcile import outbox_republish_unread
from controlplane.models import StrategySubmission
from tests.support.brokers import restart_private_broker
from tests.support.flow import consume_to_end, relay_all, submit_strategies

pytestmark = pytest.mark.django_db(transaction=True)

NOW = timedelta(0)
FRESH = timedelta(seconds=60)


def consume(gateway: Any) -> None:
    consume_to_end(gateway, heartbeat_s=0)


def test_records_lost_by_a_broker_restart_are_republished_and_recorded(
    settings: Any, private_broker: Any
) -> None:
    submit_strategies(2)
    relay_all()
    consume(commitlog_settings())
    assert StrategySubmission.objects.filter(status="recorded").count() == 2

    submit_strategies(3, prefix="lost")
    relay_all()
    # Just published: not old enough to be called lost.
    recent = outbox_republish_unread(older_than=timedelta(seconds=60), consumer_fresh_within=FRESH)
    assert recent.republished == 0

    restart_private_broker(private_broker)  # memory storage: the three records are gone
    consume(commitlog_settings())  # finds nothing, reports in, caught up
    assert StrategySubmission.objects.filter(status="published").count() == 3

    result = outbox_republish_unread(older_than=NOW, consumer_fresh_within=FRESH)
    assert result.republished == 3
    assert OutboxEvent.objects.filter(state=OutboxState.PENDING).count() == 3
    relay_all()
    consume(commitlog_settings())
    assert StrategySubmission.objects.filter(status="recorded").count() == 5
    assert outbox_republish_unread(older_than=NOW, consumer_fresh_within=FRESH).republished == 0


def test_nothing_is_republished_without_a_live_caught_up_consumer(commitlog: Any) -> None:
    submit_strategies(2)
    relay_all()
    assert outbox_republish_unread(older_than=NOW, consumer_fresh_within=FRESH).skipped == (
        "no consumer position reported yet"
    )
    ConsumerPosition.objects.create(
        group=commitlog.commitlog_group,
        topic=commitlog.commitlog_topic,
        partition=0,
        committed_offset=0,
        end_offset=2,
    )
    assert outbox_republish_unread(older_than=NOW, consumer_fresh_within=FRESH).skipped == (
        "consumer behind"
    )
    ConsumerPosition.objects.update(end_offset=0)
    stale = outbox_republish_unread(older_than=NOW, consumer_fresh_within=timedelta(seconds=-1))
    assert stale.skipped == "consumer not reporting"
    assert OutboxEvent.objects.filter(state=OutboxState.PUBLISHED).count() == 2

    # A partition nobody refreshes (gone with a recreated topic) does not block the rest.
    ConsumerPosition.objects.create(
        group=commitlog.commitlog_group,
        topic=commitlog.commitlog_topic,
        partition=9,
        committed_offset=0,
        end_offset=5,
    )
    ConsumerPosition.objects.filter(partition=9).update(
        updated_at=timezone.now() - timedelta(minutes=5)
    )
    assert outbox_republish_unread(older_than=NOW, consumer_fresh_within=FRESH).republished == 2


def test_the_backlog_lists_a_record_until_it_is_read_back_whichever_side_is_first(
    commitlog: Any,
) -> None:
    first, early = submit_strategies(2)
    relay_all()
    assert set(UnreadRecord.objects.values_list("key", flat=True)) == {
        f"ingest:{first}",
        f"ingest:{early}",
    }
    consume(commitlog)
    assert not UnreadRecord.objects.exists()

    # The consumer reads a record back before the relay has marked its row published (it
    # polls as soon as the Kafka transaction commits): the relay then lists nothing.
    (late,) = submit_strategies(1, prefix="late")
    row = OutboxEvent.objects.get(aggregate_id=late)
    assert apply_batch([RawRecord("t", 0, 99, row.key.encode(), bytes(row.value))]).applied == 1
    relay_all()
    assert OutboxEvent.objects.get(aggregate_id=late).state == OutboxState.PUBLISHED
    assert not UnreadRecord.objects.exists()
    assert outbox_republish_unread(older_than=NOW, consumer_fresh_within=FRESH).republished == 0
