"""consume_commitlog against a real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import Producer
from django.core.management import call_command
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from commitlog.kafka import OutgoingRecord, TransactionalWriter
from commitlog.models import ConsumedRecord, InvalidRecord, OutboxEvent
from controlplane.models import RebalanceBatch, StrategySubmission
from controlplane.services.rebalancing import rebalance_submit
from tests.support.bodies import make_dag, submission_body
from tests.support.flow import consume_to_end, relay_all, submit_strategies
from tests.support.requests import rebalance_request_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_same_bytes_twice_and_an_aborted_then_retried_publish_are_applied_once(
    commitlog: CommitLogSettings,
) -> None:
    submit_strategies(10)
    rows = list(OutboxEvent.objects.order_by("id"))
    records = [OutgoingRecord(row.key.encode(), bytes(row.value)) for row in rows]

    # An aborted transaction carrying the records (visible on brokers that do not hide them).
    producer = Producer(
        {
            "bootstrap.servers": commitlog.commitlog_bootstrap,
            "transactional.id": f"{commitlog.commitlog_transactional_id}-aborter",
        }
    )
    producer.init_transactions(10)
    producer.begin_transaction()
    for record in records:
        producer.produce(commitlog.commitlog_topic, key=record.key, value=record.value)
    producer.flush(10)
    producer.abort_transaction(10)

    relay_all()  # the retried publish
    # ...and the same bytes once more, as a relay that crashed before marking would send.
    writer = TransactionalWriter(
        bootstrap=commitlog.commitlog_bootstrap,
        topic=commitlog.commitlog_topic,
        transactional_id=f"{commitlog.commitlog_transactional_id}-replay",
    )
    writer.publish(records)
    writer.close()

    totals = consume_to_end(commitlog)
    assert totals.applied == 10
    assert totals.duplicates == totals.records - 10
    assert totals.duplicates >= 10
    assert ConsumedRecord.objects.count() == 10
    assert set(StrategySubmission.objects.values_list("status", flat=True)) == {"recorded"}


def test_invalid_records_are_stored_and_do_not_stop_the_stream(
    commitlog: CommitLogSettings,
) -> None:
    submit_strategies(3)
    relay_all()
    garbage = [
        OutgoingRecord(b"ingest:x", b"{not json"),
        OutgoingRecord(b"ingest:y", b'["gateway.ingest", 1]'),
        OutgoingRecord(b"z", b'["gateway.other", 1, "z", {"event": "gateway.other"}]'),
    ]
    writer = TransactionalWriter(
        bootstrap=commitlog.commitlog_bootstrap,
        topic=commitlog.commitlog_topic,
        transactional_id=f"{commitlog.commitlog_transactional_id}-garbage",
    )
    writer.publish(garbage)
    writer.close()
    submit_strategies(2, prefix="after")
    relay_all()

    totals = consume_to_end(commitlog)
    assert totals.invalid == 3
    assert totals.applied == 5
    assert InvalidRecord.objects.count() == 3
    assert StrategySubmission.objects.filter(status="recorded").count() == 5


def test_full_path_rest_relay_consumer_ends_recorded_and_visible_in_the_admin(
    commitlog: CommitLogSettings, api: APIClient, admin_client: Any
) -> None:
    response = api.post("/strategies", submission_body(make_dag("full-1", "full-2")), format="json")
    assert response.status_code == 202
    strategy_id = response.json()["strategy_id"]
    batch = api.post(
        "/rebalancing/batches",
        {"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A", "quantity": 1}]},
        format="json",
    ).json()["batches"][0]["batch_id"]
    assert api.get(f"/strategies/{strategy_id}/status").json() == {"status": "accepted"}
    relay_all()
    assert api.get(f"/strategies/{strategy_id}/status").json() == {"status": "published"}
    consume_to_end(commitlog)
    assert api.get(f"/strategies/{strategy_id}/status").json() == {"status": "recorded"}
    assert RebalanceBatch.objects.get(batch_id=batch).status == "recorded"

    listing = admin_client.get("/admin/controlplane/strategysubmission/?status__exact=recorded")
    assert strategy_id in listing.content.decode()
    detail = admin_client.get(f"/admin/controlplane/strategysubmission/{strategy_id}/change/")
    assert "recorded" in detail.content.decode()
    consumed = admin_client.get(f"/admin/commitlog/consumedrecord/?q=ingest:{strategy_id}")
    assert (
        f"/admin/controlplane/strategysubmission/{strategy_id}/change/" in consumed.content.decode()
    )


def test_rebuilding_an_empty_database_from_the_topic_reproduces_the_state(
    commitlog: CommitLogSettings,
) -> None:
    submit_strategies(6)
    body = {
        "per_world": {"w1": [{"symbol": "A", "quantity": 1}]},
        "global": [{"symbol": "G", "qty": 2}],
    }
    rebalance_submit(request=rebalance_request_of({**body, "mode": "live"}))
    relay_all()
    consume_to_end(commitlog)
    fields = (
        "strategy_id",
        "dag_hash",
        "dag",
        "world_ids",
        "compute_context",
        "meta",
        "submitted_at",
    )
    before = sorted(StrategySubmission.objects.values_list(*fields))
    batch_fields = (
        "batch_id",
        "world_id",
        "scope",
        "orders",
        "total_orders",
        "mode",
        "submitted_at",
    )
    batches_before = sorted(RebalanceBatch.objects.values_list(*batch_fields))

    # An empty database: no submissions, batches, outbox or dedup marks.
    for model in (StrategySubmission, RebalanceBatch, OutboxEvent, ConsumedRecord):
        model.objects.all().delete()

    call_command("consume_commitlog", "--from-beginning", "--exit-at-end", stdout=_Sink())
    assert sorted(StrategySubmission.objects.values_list(*fields)) == before
    assert sorted(RebalanceBatch.objects.values_list(*batch_fields)) == batches_before
    assert set(StrategySubmission.objects.values_list("status", flat=True)) == {"recorded"}
    assert ConsumedRecord.objects.filter(rebuilt=True).count() == 8


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass
