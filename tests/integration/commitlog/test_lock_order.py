"""The relay's published marks and the consumer's recorded marks, at once, on real PostgreSQL.

The consumer reads a batch as soon as its Kafka transaction commits, while the relay is
still marking it: both lock the same submissions. They must wait for each other, never
deadlock (PostgreSQL only breaks a deadlock after deadlock_timeout, 1 s here).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.utils import timezone

from commitlog.models import OutboxEvent
from commitlog.records import decode_value
from commitlog.registry import Delivered, PublishedAt, apply_records, mark_published
from controlplane.models import StrategySubmission
from controlplane.records.ingest import parse_ingest
from controlplane.services.strategies import strategy_submit
from tests.support.bodies import crc_of, make_dag
from tests.support.processes import wait_for
from tests.support.requests import strategy_request_of

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(work: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            with transaction.atomic():
                work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _plan_as_for_a_full_table() -> None:
    # With two rows PostgreSQL scans the whole table, which locks them in one order
    # whatever the input. With many rows it takes them one by one through the primary
    # key, in the input's order: the plan under which the markers could deadlock.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")


def _lock_waits() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return int(cursor.fetchone()[0])


def test_the_relay_and_the_consumer_marking_the_same_rows_wait_instead_of_deadlocking() -> None:
    ids = []
    for name in ("lock-a", "lock-b"):
        dag = make_dag(name)
        ack = strategy_submit(
            request=strategy_request_of(
                dag_json=json.dumps(dag), node_ids_crc32=crc_of([name]), world_ids=["w1"]
            )
        )
        ids.append(ack.strategy_id)
    low, high = sorted(ids)
    states = {
        row.aggregate_id: parse_ingest(decode_value(bytes(row.value)))
        for row in OutboxEvent.objects.all()
    }

    def relay_marks() -> None:  # outbox order: low, then high
        _plan_as_for_a_full_table()
        mark_published(
            [
                ("gateway.ingest", PublishedAt(low, 0, 7)),
                ("gateway.ingest", PublishedAt(high, 1, 7)),
            ],
            at=timezone.now(),
        )

    def consumer_records() -> None:  # partition order: high, then low
        _plan_as_for_a_full_table()
        apply_records(
            [("gateway.ingest", Delivered(high, states[high], 1, 1, "")),
             ("gateway.ingest", Delivered(low, states[low], 0, 1, ""))]
        )  # fmt: skip

    # A third transaction holds `low`, so both markers queue up behind it. With each
    # locking in its own input order, the consumer would take `high` meanwhile, and the
    # two would deadlock once `low` is free.
    release = threading.Event()
    holding = threading.Event()
    errors: list[BaseException] = []

    def hold_low() -> None:
        StrategySubmission.objects.select_for_update().get(strategy_id=low)
        # A new version of the row: the markers must update the one they get once it commits.
        StrategySubmission.objects.filter(strategy_id=low).update(meta={"held": True})
        holding.set()
        release.wait(30)

    holder = _in_thread(hold_low, errors)
    assert holding.wait(10)
    relay = _in_thread(relay_marks, errors)
    wait_for(lambda: _lock_waits() == 1, 10, "the relay's marks to wait for the held row")
    consumer = _in_thread(consumer_records, errors)
    wait_for(lambda: _lock_waits() == 2, 10, "the consumer's marks to wait too")
    release.set()
    for thread in (holder, relay, consumer):
        thread.join(30)
        assert not thread.is_alive()

    assert errors == []  # before key-order locking: OperationalError, deadlock detected
    rows = StrategySubmission.objects.filter(strategy_id__in=ids)
    assert {row.status for row in rows} == {"recorded"}
    assert {str(row.strategy_id): row.meta for row in rows}[low] == {"held": True}
    positions = {
        str(row.strategy_id): (row.commitlog_partition, row.commitlog_offset) for row in rows
    }
    # The consumer's: recording sets the position, publishing only fills in a missing one.
    assert positions == {low: (0, 1), high: (1, 1)}
