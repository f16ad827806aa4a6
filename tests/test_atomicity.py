"""One transaction for a submission and its outbox row; racing duplicates; real PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

import controlplane.services.rebalancing as rebalancing
import controlplane.services.strategies as strategies
from commitlog.models import OutboxEvent
from controlplane.models import RebalanceBatch, StrategySubmission
from controlplane.services import clock
from tests.conftest import submission_body


class InjectedFailure(RuntimeError):
    pass


def _fail_after_first_write(*args: Any, **kwargs: Any) -> Any:
    # The domain row has been INSERTed when the outbox write is reached.
    raise InjectedFailure("outbox write failed")


@pytest.mark.django_db(transaction=True)
def test_failure_between_submission_and_outbox_writes_leaves_neither(
    api_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(strategies, "outbox_enqueue", _fail_after_first_write)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    response = client.post("/strategies", submission_body(), format="json")
    assert response.status_code == 500
    assert StrategySubmission.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_failure_while_writing_rebalance_outbox_rows_leaves_no_batch(
    api_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rebalancing, "outbox_enqueue_many", _fail_after_first_write)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    body = {
        "per_world": {"w1": [{"symbol": "A", "quantity": 1}]},
        "global": [{"symbol": "B", "qty": 2}],
    }
    response = client.post("/rebalancing/batches", body, format="json")
    assert response.status_code == 500
    assert RebalanceBatch.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_identical_submissions_racing_give_one_202_and_one_409(
    api_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests are validated and about to insert at the same time; the unique
    dag_hash index decides, and the loser answers 409 with the winner's id."""
    body = submission_body()
    barrier = threading.Barrier(2)
    original_stamp = clock.now_stamp

    def synchronised_stamp() -> Any:
        barrier.wait(timeout=10)  # both threads are past validation, neither has inserted
        return original_stamp()

    results: list[Any] = []

    def submit() -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
            results.append(client.post("/strategies", body, format="json"))
        finally:
            connections.close_all()

    monkeypatch.setattr(strategies, "now_stamp", synchronised_stamp)
    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(r.status_code for r in results)
    assert statuses == [202, 409], [r.json() for r in results]
    winner = next(r for r in results if r.status_code == 202).json()["strategy_id"]
    loser = next(r for r in results if r.status_code == 409).json()
    assert loser["code"] == "E_DUPLICATE"
    assert loser["strategy_id"] == winner
    assert StrategySubmission.objects.count() == 1
    assert OutboxEvent.objects.count() == 1
