"""Broker outage: the API keeps accepting, rows back off, and all drain once it is back."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent, OutboxState
from commitlog.relay.run import relay_outbox
from commitlog.relay.writer import ProcessWriter
from controlplane.models import StrategySubmission
from devstack.kafka import EmbeddedKafka
from tests.support.bodies import make_dag, submission_body
from tests.support.brokers import restart_private_broker
from tests.support.kafka_reader import read_topic

pytestmark = pytest.mark.django_db(transaction=True)


def make_due() -> None:
    OutboxEvent.objects.filter(state=OutboxState.PENDING).update(next_attempt_at=timezone.now())


def test_broker_outage_keeps_accepting_and_drains_after_restart(
    private_broker: EmbeddedKafka, api: APIClient
) -> None:
    writers = ProcessWriter()
    try:
        for i in range(3):  # a healthy start: the writer is initialised and in use
            api.post("/strategies", submission_body(make_dag(f"before-{i}")), format="json")
        assert relay_outbox(writers=writers).published == 3

        private_broker.stop()
        accepted = []
        for i in range(5):
            response = api.post(
                "/strategies", submission_body(make_dag(f"during-{i}")), format="json"
            )
            assert response.status_code == 202
            accepted.append(response.json()["strategy_id"])

        first = relay_outbox(writers=writers)
        assert first.published == 0
        assert first.failed == 5

        def pending() -> Any:
            return OutboxEvent.objects.filter(state=OutboxState.PENDING)

        assert pending().count() == 5
        assert set(pending().values_list("attempts", flat=True)) == {1}
        assert all(row.next_attempt_at > timezone.now() for row in pending())
        assert all(row.last_error for row in pending())

        assert relay_outbox(writers=writers).failed == 0  # backing off: nothing is due
        make_due()
        relay_outbox(writers=writers)
        assert set(pending().values_list("attempts", flat=True)) == {2}

        restart_private_broker(private_broker)
        deadline = time.monotonic() + 60
        while pending().exists() and time.monotonic() < deadline:
            make_due()
            relay_outbox(writers=writers)
    finally:
        writers.close()

    assert not OutboxEvent.objects.exclude(state=OutboxState.PUBLISHED).exists()
    statuses = StrategySubmission.objects.filter(strategy_id__in=accepted).values_list(
        "status", flat=True
    )
    assert set(statuses) == {"published"}
    gateway = private_broker.bootstrap
    keys = {record.key for record in read_topic(gateway, "commit-log")}
    assert {f"ingest:{strategy_id}".encode() for strategy_id in accepted} <= keys
