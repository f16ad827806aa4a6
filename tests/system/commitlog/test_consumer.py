"""consume_commitlog against a real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from commitlog.conf import CommitLogSettings, commitlog_settings
from commitlog.kafka import LogConsumer
from commitlog.models import ConsumedRecord
from controlplane.models import StrategySubmission
from tests.support.brokers import restart_private_broker
from tests.support.flow import relay_all, submit_strategies
from tests.support.processes import (
    SUMMARY,
    ChildProcess,
    consumer_env,
    retire,
    service_process,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def processes() -> Iterator[list[ChildProcess]]:
    started: list[ChildProcess] = []
    yield started
    for process in started:
        retire(process)


def committed_offsets(commitlog: CommitLogSettings) -> dict[int, int]:
    probe = LogConsumer(
        bootstrap=commitlog.commitlog_bootstrap,
        group=commitlog.commitlog_group,
        topic=commitlog.commitlog_topic,
    )
    try:
        return probe.start_offsets()
    finally:
        probe.close()


def topic_ends(commitlog: CommitLogSettings) -> dict[int, int]:
    from tests.support.kafka_reader import read_topic

    ends: dict[int, int] = {}
    for record in read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic):
        ends[record.partition] = max(ends.get(record.partition, 0), record.offset + 1)
    return ends


def offsets_cover_every_record(commitlog: CommitLogSettings) -> bool:
    """The group's committed offsets are past every record (markers may push them further)."""
    committed = committed_offsets(commitlog)
    return all(committed.get(p, 0) >= end for p, end in topic_ends(commitlog).items())


def test_sigkill_between_db_commit_and_offset_commit_applies_nothing_twice(
    commitlog: CommitLogSettings, processes: list[ChildProcess]
) -> None:
    submit_strategies(8)
    relay_all()
    consumer = service_process(
        ["manage.py", "consume_commitlog"],
        consumer_env(commitlog, CONSUMER_PAUSE_BEFORE_OFFSET_COMMIT_SECONDS="60"),
    )
    processes.append(consumer)
    # A poll takes what has been fetched by then: the first batch may hold some of the 8.
    wait_for(lambda: ConsumedRecord.objects.exists(), 60, "the DB commit of the first batch")
    consumer.signal(signal.SIGKILL)
    consumer.wait(10)
    assert committed_offsets(commitlog) == {}  # killed inside the window: no offset committed
    first = ConsumedRecord.objects.count()
    recorded_at = dict(
        StrategySubmission.objects.filter(status="recorded").values_list(
            "strategy_id", "recorded_at"
        )
    )
    assert len(recorded_at) == first

    restarted = service_process(
        ["manage.py", "consume_commitlog", "--exit-at-end"], consumer_env(commitlog)
    )
    processes.append(restarted)
    assert restarted.wait(90) == 0, restarted.output()
    summary = SUMMARY.search(restarted.output())
    assert summary is not None, restarted.output()
    records, applied, duplicates = (int(summary.group(i)) for i in (1, 2, 3))
    assert (records, applied, duplicates) == (8, 8 - first, first)
    again = dict(StrategySubmission.objects.values_list("strategy_id", "recorded_at"))
    assert {key: again[key] for key in recorded_at} == recorded_at
    assert all(again.values())
    assert offsets_cover_every_record(commitlog)


def test_two_consumers_in_one_group_apply_every_record_exactly_once(
    commitlog: CommitLogSettings, processes: list[ChildProcess]
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


def test_sigterm_finishes_commits_and_exits_zero(
    commitlog: CommitLogSettings, processes: list[ChildProcess]
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


def test_consumer_survives_a_lost_database_connection(
    commitlog: CommitLogSettings, processes: list[ChildProcess]
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


def test_consumer_survives_a_broker_restart(
    settings: Any, private_broker: Any, processes: list[ChildProcess]
) -> None:
    consumer = service_process(
        ["manage.py", "consume_commitlog"], consumer_env(commitlog_settings())
    )
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
