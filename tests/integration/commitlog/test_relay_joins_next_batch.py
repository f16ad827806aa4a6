"""Rows committed while a batch is in Kafka's hands go in the run's next batch, against a
real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

import commitlog.relay.run as relay_module
import commitlog.relay.store as relay_store
from commitlog.conf import CommitLogSettings
from commitlog.kafka import OutgoingRecord, Position
from commitlog.models import OutboxEvent, OutboxState
from commitlog.relay.policy import RelayPolicy
from commitlog.relay.run import relay_outbox
from commitlog.relay.writer import ProcessWriter
from tests.support.flow import submit_strategies
from tests.support.kafka_reader import read_topic

pytestmark = pytest.mark.django_db(transaction=True)


class CommitsDuringFirstPublish:
    """The process's real writer, as writer and source in one; during its first
    transaction, once the run has claimed the batch after it, two more submissions commit
    (on the Kafka thread's own connection)."""

    def __init__(self, claimed_ahead: threading.Event) -> None:
        self.real = ProcessWriter()
        self.claimed_ahead = claimed_ahead
        self.publishes = 0
        self.late_ids: list[str] = []

    def get(self) -> CommitsDuringFirstPublish:
        return self

    def discard(self) -> None:
        self.real.discard()

    def publish(self, records: list[OutgoingRecord]) -> list[Position]:
        self.publishes += 1
        if self.publishes == 1:
            assert self.claimed_ahead.wait(10), "the run never claimed the next batch"
            try:
                self.late_ids = submit_strategies(2, prefix="late")
            finally:
                connection.close()  # this thread's own connection
        return self.real.get().publish(records)


def test_rows_committed_during_a_batch_are_published_by_the_same_run(
    commitlog: CommitLogSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run claims batch N+1 as batch N starts; rows that commit after that claim and
    before batch N's transaction ends are claimed again before N+1 starts. Without it they
    would wait for the next run (here none: the run ended on the empty claim)."""
    submit_strategies(3)
    claims = 0
    claimed_ahead = threading.Event()
    real_claim = relay_store.claim

    def claim(batch_size: int, *, skip: Any = ()) -> Any:
        nonlocal claims
        rows = real_claim(batch_size, skip=skip)
        claims += 1
        if claims == 2:  # the first claim starts the run, the second is batch 2's
            claimed_ahead.set()
        return rows

    monkeypatch.setattr(relay_module, "claim", claim)
    writer = CommitsDuringFirstPublish(claimed_ahead)
    try:
        run = relay_outbox(writers=writer, policy=RelayPolicy.from_settings(batch_size=10))
    finally:
        writer.real.close()

    assert writer.publishes == 2
    assert (run.published, run.batches) == (5, 2)
    assert not OutboxEvent.objects.exclude(state=OutboxState.PUBLISHED).exists()
    keys = [r.key for r in read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)]
    assert sorted(keys) == sorted(row.key.encode() for row in OutboxEvent.objects.all())
    assert all(f"ingest:{late}".encode() in keys for late in writer.late_ids)
