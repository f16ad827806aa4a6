"""The relay against a real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from typing import Any

import pytest
from django.db import OperationalError, connections, transaction
from django.utils import timezone

import commitlog.relay.run as relay_module
import commitlog.relay.store as relay_store
from commitlog.conf import CommitLogSettings
from commitlog.models import ActivityMinute, OutboxEvent, OutboxState
from commitlog.relay.policy import RelayPolicy
from commitlog.relay.run import RelayRun, relay_lock, relay_outbox
from commitlog.relay.writer import ProcessWriter
from commitlog.telemetry.activity import RELAY
from controlplane.models import RebalanceBatch, StrategySubmission
from controlplane.services.rebalancing import rebalance_submit
from tests.support.flow import submit_strategies
from tests.support.kafka_reader import read_topic
from tests.support.requests import rebalance_request_of

pytestmark = pytest.mark.django_db(transaction=True)


def outbox_rows() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.order_by("id"))


def relay_with_batches_of(batch_size: int) -> RelayRun:
    """One relay run with a writer of its own, closed after the run."""
    writers = ProcessWriter()
    try:
        return relay_outbox(
            writers=writers, policy=RelayPolicy.from_settings(batch_size=batch_size)
        )
    finally:
        writers.close()


def published_copies(commitlog: CommitLogSettings) -> list[int]:
    """How many times each record key is in the topic, sorted."""
    records = read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)
    return sorted(Counter(record.key for record in records).values())


def make_due() -> None:
    """Stand-in for time passing: every backed-off row becomes due now."""
    OutboxEvent.objects.filter(state=OutboxState.PENDING).update(next_attempt_at=timezone.now())


def test_records_carry_the_stored_bytes_in_outbox_order(commitlog: CommitLogSettings) -> None:
    submit_strategies(25)
    body = {
        "per_world": {"w1": [{"symbol": "A", "quantity": 1}]},
        "global": [{"symbol": "G", "qty": 2}],
    }
    rebalance_submit(request=rebalance_request_of(body))
    run = relay_with_batches_of(10)
    assert run.published == 27
    assert run.batches == 3

    rows = outbox_rows()
    assert all(row.state == OutboxState.PUBLISHED for row in rows)
    records = read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)
    assert len(records) == 27
    by_position = {(r.partition, r.offset): r for r in records}
    for row in rows:
        record = by_position[(row.published_partition, row.published_offset)]
        assert record.key == row.key.encode()
        assert record.value == bytes(row.value)

    # Within a partition, Kafka offsets follow the outbox order.
    offsets_by_partition: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        offsets_by_partition[row.published_partition].append((row.id, row.published_offset))
    for pairs in offsets_by_partition.values():
        assert [offset for _, offset in sorted(pairs)] == sorted(offset for _, offset in pairs)

    assert set(StrategySubmission.objects.values_list("status", flat=True)) == {"published"}
    assert set(RebalanceBatch.objects.values_list("status", flat=True)) == {"published"}
    submission = StrategySubmission.objects.first()
    assert submission is not None
    assert submission.published_at is not None
    assert submission.commitlog_offset is not None


def _backends() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def test_a_claim_that_reads_before_the_previous_mark_commits_takes_no_row_twice(
    commitlog: CommitLogSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drain claims batch N+1 on its own connection while it marks batch N-1. Here every
    such claim is made to read before that mark commits, the worst order: batch N-1 still
    looks pending to it, and must not be published a second time."""
    submit_strategies(23)
    backends_before = _backends()
    turn = threading.Condition()
    state = {"claims": 0, "marks": 0, "drained": False}
    real_claim, real_mark = relay_store.claim, relay_module._mark_committed

    def claim(batch_size: int, *, skip: Any = ()) -> Any:
        rows = real_claim(batch_size, skip=skip)
        if threading.current_thread().name.startswith("relay-claim"):
            with turn:
                state["claims"] += 1
                state["drained"] = state["drained"] or not rows
                turn.notify_all()
        return rows

    def mark(batch: Any, run: Any) -> None:
        with turn:
            state["marks"] += 1
            ready = lambda: state["claims"] > state["marks"] or state["drained"]  # noqa: E731
            assert turn.wait_for(ready, timeout=10)
        real_mark(batch, run)

    monkeypatch.setattr(relay_module, "claim", claim)
    monkeypatch.setattr(relay_module, "_mark_committed", mark)
    run = relay_with_batches_of(5)

    assert state["claims"] == 5  # batches 2-5 and the empty claim after them
    assert (run.published, run.batches) == (23, 5)
    assert not OutboxEvent.objects.exclude(state=OutboxState.PUBLISHED).exists()
    assert published_copies(commitlog) == [1] * 23
    # The claiming thread's connection was closed with the run.
    deadline = time.monotonic() + 10
    while _backends() > backends_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _backends() == backends_before


def test_a_relay_run_inside_a_callers_transaction_publishes_each_row_once(
    commitlog: CommitLogSettings,
) -> None:
    """Run eagerly inside a transaction, the marks are not committed until it ends: a
    second connection would see every earlier batch as pending. The run stays on one."""
    submit_strategies(17)
    with transaction.atomic():
        run = relay_with_batches_of(4)
    assert (run.published, run.batches) == (17, 5)
    assert published_copies(commitlog) == [1] * 17


def test_a_failed_claim_on_the_second_connection_falls_back_to_the_first(
    commitlog: CommitLogSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit_strategies(14)
    real_claim = relay_store.claim
    failures: list[str] = []

    def claim(batch_size: int, *, skip: Any = ()) -> Any:
        if threading.current_thread().name.startswith("relay-claim"):
            failures.append("claim")
            raise OperationalError("the claiming connection was lost")
        return real_claim(batch_size, skip=skip)

    monkeypatch.setattr(relay_module, "claim", claim)
    run = relay_with_batches_of(5)
    assert failures == ["claim"]  # tried once, then the run claims on its own connection
    assert (run.published, run.batches) == (14, 3)
    assert not OutboxEvent.objects.exclude(state=OutboxState.PUBLISHED).exists()
    assert published_copies(commitlog) == [1] * 14


def test_crash_between_kafka_commit_and_db_mark_republishes_identical_bytes(
    commitlog: CommitLogSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    submit_strategies(5)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process died after the Kafka commit")

    writers = ProcessWriter()
    try:
        monkeypatch.setattr(relay_module, "mark_rows_published", crash)
        with pytest.raises(RuntimeError):
            relay_outbox(writers=writers)
        assert {row.state for row in outbox_rows()} == {OutboxState.PENDING}
        assert len(read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)) == 5

        monkeypatch.undo()
        run = relay_outbox(writers=writers)
    finally:
        writers.close()
    assert run.published == 5
    assert {row.state for row in outbox_rows()} == {OutboxState.PUBLISHED}

    records = read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)
    assert len(records) == 10
    stored = {row.key.encode(): bytes(row.value) for row in outbox_rows()}
    copies = Counter(record.key for record in records)
    assert copies == Counter({key: 2 for key in stored})
    assert all(record.value == stored[record.key] for record in records)


def test_a_second_relay_exits_at_once_while_one_holds_the_transactional_id(
    commitlog: CommitLogSettings,
) -> None:
    submit_strategies(3)
    holder_ready, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with relay_lock(commitlog.commitlog_transactional_id) as owned:
                assert owned
                holder_ready.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert holder_ready.wait(timeout=10)
        writers = ProcessWriter()
        started = time.monotonic()
        run = relay_outbox(writers=writers)
        assert run.skipped == "another relay holds the lock"
        assert run.published == 0
        assert time.monotonic() - started < 5  # it did not wait for the lock
        assert {row.state for row in outbox_rows()} == {OutboxState.PENDING}
    finally:
        release.set()
        holder.join(timeout=10)


def test_two_relays_started_together_publish_every_row_once(commitlog: CommitLogSettings) -> None:
    submit_strategies(120)
    runs: list[Any] = []
    start = threading.Barrier(2)

    def relay_until_empty() -> None:
        writers = ProcessWriter()
        try:
            start.wait(timeout=10)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                run = relay_outbox(writers=writers, policy=RelayPolicy.from_settings(batch_size=7))
                runs.append(run)
                if not OutboxEvent.objects.filter(state=OutboxState.PENDING).exists():
                    return
        finally:
            writers.close()
            connections.close_all()

    threads = [threading.Thread(target=relay_until_empty) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert not OutboxEvent.objects.exclude(state=OutboxState.PUBLISHED).exists()
    assert sum(run.published for run in runs) == 120
    records = read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)
    keys = Counter(record.key for record in records)
    assert len(keys) == 120
    assert max(keys.values()) == 1


def test_refused_row_backs_off_then_dies_and_is_requeued_from_the_admin(
    commitlog: CommitLogSettings, settings: Any, admin_client: Any
) -> None:
    settings.RELAY_MAX_ATTEMPTS = 3
    submit_strategies(2)
    # A row the producer refuses every time (over message.max.bytes), among good ones.
    bad = OutboxEvent.objects.create(
        event="gateway.ingest",
        aggregate_id="oversized",
        key="ingest:oversized",
        value=b"x" * 2_000_000,
    )
    submit_strategies(2, prefix="late")
    writers = ProcessWriter()
    try:
        first = relay_outbox(writers=writers)
        bad.refresh_from_db()
        assert first.published == 4
        assert bad.state == OutboxState.PENDING
        assert bad.attempts == 1
        assert "too large" in bad.last_error.lower()
        assert bad.next_attempt_at > timezone.now()

        # Not due yet: a new run leaves it alone.
        assert relay_outbox(writers=writers).failed == 0
        bad.refresh_from_db()
        assert bad.attempts == 1

        for expected_attempts in (2, 3):
            make_due()
            relay_outbox(writers=writers)
            bad.refresh_from_db()
            assert bad.attempts == expected_attempts
        assert bad.state == OutboxState.DEAD

        make_due()
        assert relay_outbox(writers=writers).failed == 0  # dead rows are not retried

        # From the list of dead rows, which no longer holds it once requeued.
        response = admin_client.post(
            "/admin/commitlog/outboxevent/?state__exact=dead",
            {"action": "requeue_dead", "_selected_action": [bad.pk]},
            follow=True,
        )
        assert response.status_code == 200
        assert "Requeued 1 dead row(s)." in response.content.decode()
        bad.refresh_from_db()
        assert bad.state == OutboxState.PENDING
        assert bad.attempts == 0
        assert bad.next_attempt_at <= timezone.now()
        assert relay_outbox(writers=writers).failed == 1
    finally:
        writers.close()
    # The dashboard's history counted every failed attempt and the death, minute by minute.
    relay_minutes = ActivityMinute.objects.filter(source=RELAY)
    assert sum(m.failed for m in relay_minutes) == 4
    assert sum(m.dead for m in relay_minutes) == 1
    assert sum(m.records.get("gateway.ingest", 0) for m in relay_minutes) == 4


def test_a_fenced_relay_leaves_its_rows_pending_and_rebuilds_its_producer(
    commitlog: CommitLogSettings,
) -> None:
    submit_strategies(2)
    old_owner = ProcessWriter()
    try:
        assert relay_outbox(writers=old_owner).published == 2
        fenced_writer = old_owner.get()

        # A new owner of the transactional id (a relay elsewhere) initialises: old one is fenced.
        new_owner = ProcessWriter()
        new_owner.get().publish([])
        new_owner.close()

        submit_strategies(3, prefix="after-fence")
        run = relay_outbox(writers=old_owner)
        assert run.published == 0
        assert run.errors
        pending = OutboxEvent.objects.filter(state=OutboxState.PENDING)
        assert pending.count() == 3
        assert set(pending.values_list("attempts", flat=True)) == {0}  # not the rows' fault

        again = relay_outbox(writers=old_owner)
        assert again.published == 3
        assert old_owner.get() is not fenced_writer
    finally:
        old_owner.close()
