"""consume_commitlog against a real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Producer
from django.core.management import call_command
from rest_framework.test import APIClient

from commitlog.kafka import LogConsumer, OutgoingRecord, TransactionalWriter
from commitlog.models import ConsumedRecord, InvalidRecord, OutboxEvent
from config.yaml_file import GatewayConfig
from controlplane.models import RebalanceBatch, StrategySubmission
from controlplane.services.rebalance_groups import group_multi
from controlplane.services.rebalancing import rebalance_submit
from tests.conftest import make_dag, restart_private_broker, submission_body
from tests.flow import consume_to_end, relay_all
from tests.processes import ChildProcess, database_url, retire, service_process, wait_for
from tests.test_relay import submit_strategies

pytestmark = pytest.mark.django_db(transaction=True)

SUMMARY = re.compile(
    r"consumer stopped: records=(\d+) applied=(\d+) duplicates=(\d+) invalid=(\d+) conflicts=(\d+)"
)


def consumer_env(commitlog: GatewayConfig, **extra: str) -> dict[str, str]:
    return {
        "PROFILE": "dev",
        "DATABASE_URL": database_url(),
        "COMMITLOG_BOOTSTRAP": commitlog.commitlog_bootstrap,
        "COMMITLOG_TOPIC": commitlog.commitlog_topic,
        "COMMITLOG_GROUP": commitlog.commitlog_group,
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
        **extra,
    }


@pytest.fixture
def processes() -> Iterator[list[ChildProcess]]:
    started: list[ChildProcess] = []
    yield started
    for process in started:
        retire(process)


def committed_offsets(commitlog: GatewayConfig) -> dict[int, int]:
    probe = LogConsumer(
        bootstrap=commitlog.commitlog_bootstrap,
        group=commitlog.commitlog_group,
        topic=commitlog.commitlog_topic,
    )
    try:
        return probe.start_offsets()
    finally:
        probe.close()


def topic_ends(commitlog: GatewayConfig) -> dict[int, int]:
    from tests.kafka_reader import read_topic

    ends: dict[int, int] = {}
    for record in read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic):
        ends[record.partition] = max(ends.get(record.partition, 0), record.offset + 1)
    return ends


def offsets_cover_every_record(commitlog: GatewayConfig) -> bool:
    """The group's committed offsets are past every record (markers may push them further)."""
    committed = committed_offsets(commitlog)
    return all(committed.get(p, 0) >= end for p, end in topic_ends(commitlog).items())


def test_same_bytes_twice_and_an_aborted_then_retried_publish_are_applied_once(
    commitlog: GatewayConfig,
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


def test_invalid_records_are_stored_and_do_not_stop_the_stream(commitlog: GatewayConfig) -> None:
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
    commitlog: GatewayConfig, api: APIClient, admin_client: Any
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
    commitlog: GatewayConfig,
) -> None:
    submit_strategies(6)
    rebalance_submit(
        groups=group_multi(
            {"w1": [{"symbol": "A", "quantity": 1}]}, [{"symbol": "G", "qty": 2}], None
        ),
        mode="live",
    )
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


@pytest.mark.system
def test_sigkill_between_db_commit_and_offset_commit_applies_nothing_twice(
    commitlog: GatewayConfig, processes: list[ChildProcess]
) -> None:
    submit_strategies(8)
    relay_all()
    consumer = service_process(
        ["manage.py", "consume_commitlog"],
        consumer_env(commitlog, CONSUMER_PAUSE_BEFORE_OFFSET_COMMIT_SECONDS="60"),
    )
    processes.append(consumer)
    wait_for(lambda: ConsumedRecord.objects.count() == 8, 60, "the DB commit of the batch")
    recorded_at = dict(StrategySubmission.objects.values_list("strategy_id", "recorded_at"))
    consumer.signal(signal.SIGKILL)
    consumer.wait(10)
    assert committed_offsets(commitlog) == {}  # killed inside the window: no offset committed

    restarted = service_process(
        ["manage.py", "consume_commitlog", "--exit-at-end"], consumer_env(commitlog)
    )
    processes.append(restarted)
    assert restarted.wait(90) == 0, restarted.output()
    summary = SUMMARY.search(restarted.output())
    assert summary is not None, restarted.output()
    records, applied, duplicates = (int(summary.group(i)) for i in (1, 2, 3))
    assert (records, applied, duplicates) == (8, 0, 8)
    assert dict(StrategySubmission.objects.values_list("strategy_id", "recorded_at")) == recorded_at
    assert offsets_cover_every_record(commitlog)


@pytest.mark.system
def test_two_consumers_in_one_group_apply_every_record_exactly_once(
    commitlog: GatewayConfig, processes: list[ChildProcess]
) -> None:
    first = service_process(["manage.py", "consume_commitlog"], consumer_env(commitlog))
    processes.append(first)
    first.wait_for_line("event=consumer_assigned", 60)
    second = service_process(["manage.py", "consume_commitlog"], consumer_env(commitlog))
    processes.append(second)
    second.wait_for_line("event=consumer_assigned", 60)
    wait_for(
        lambda: first.output().count("event=consumer_assigned") >= 2,
        60,
        "the first consumer to be re-assigned after the second joined",
    )

    submit_strategies(60)
    relay_all()
    wait_for(lambda: ConsumedRecord.objects.count() == 60, 90, "all records applied")
    wait_for(lambda: offsets_cover_every_record(commitlog), 60, "offsets committed")

    summaries = []
    for process in (first, second):
        process.signal(signal.SIGTERM)
        assert process.wait(30) == 0, process.output()
        found = SUMMARY.search(process.output())
        assert found is not None, process.output()
        summaries.append(int(found.group(2)))
    assert sum(summaries) == 60
    assert all(applied > 0 for applied in summaries), summaries
    assert StrategySubmission.objects.filter(status="recorded").count() == 60


@pytest.mark.system
def test_sigterm_finishes_commits_and_exits_zero(
    commitlog: GatewayConfig, processes: list[ChildProcess]
) -> None:
    consumer = service_process(["manage.py", "consume_commitlog"], consumer_env(commitlog))
    processes.append(consumer)
    consumer.wait_for_line("event=consumer_assigned", 60)
    submit_strategies(4)
    relay_all()
    wait_for(lambda: offsets_cover_every_record(commitlog), 60, "offsets committed")
    consumer.signal(signal.SIGTERM)
    assert consumer.wait(30) == 0
    assert "SIGTERM: finishing the batch in hand" in consumer.output()
    assert SUMMARY.search(consumer.output()) is not None


@pytest.mark.system
def test_consumer_survives_a_lost_database_connection(
    commitlog: GatewayConfig, processes: list[ChildProcess]
) -> None:
    from django.db import connection

    consumer = service_process(["manage.py", "consume_commitlog"], consumer_env(commitlog))
    processes.append(consumer)
    consumer.wait_for_line("event=consumer_assigned", 60)
    submit_strategies(2)
    relay_all()
    wait_for(lambda: ConsumedRecord.objects.count() == 2, 60, "the first records")

    database = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:  # cut every other session on the test database
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
    submit_strategies(3, prefix="later")
    relay_all()
    wait_for(lambda: ConsumedRecord.objects.count() == 5, 60, "records after the cut")
    assert consumer.alive, consumer.output()
    # The cut surfaced in whichever statement came first (apply, progress or heartbeat).
    noticed = ("consumer_db_error", "consumer_progress_not_saved", "consumer_heartbeat_not_saved")
    assert any(consumer.has_line(f"event={event}") for event in noticed), consumer.output()


@pytest.mark.system
def test_consumer_survives_a_broker_restart(
    settings: Any, private_broker: Any, processes: list[ChildProcess]
) -> None:
    consumer = service_process(["manage.py", "consume_commitlog"], consumer_env(settings.GATEWAY))
    processes.append(consumer)
    consumer.wait_for_line("event=consumer_assigned", 60)
    submit_strategies(2)
    relay_all()
    wait_for(lambda: ConsumedRecord.objects.count() == 2, 60, "records before the restart")

    restart_private_broker(private_broker)
    submit_strategies(3, prefix="after-restart")

    def relayed_and_consumed() -> bool:
        relay_all()
        return ConsumedRecord.objects.count() == 5

    wait_for(relayed_and_consumed, 120, "records after the restart")
    assert consumer.alive, consumer.output()
