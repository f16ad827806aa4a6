"""One transaction for a submission and its outbox row; racing duplicates; real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

import controlplane.services.rebalancing as rebalancing
import controlplane.services.strategies as strategies
from commitlog.models import OutboxEvent
from commitlog.records import decode_value
from controlplane.models import RebalanceBatch, StrategySubmission
from controlplane.services.credentials import credential_issue, credential_limits
from tests.support.bodies import race_two, submission_body


class InjectedFailure(RuntimeError):
    pass


def _fail_after_first_write(*args: Any, **kwargs: Any) -> Any:
    # The domain row has been INSERTed when the outbox write is reached.
    raise InjectedFailure("outbox write failed")


@contextmanager
def outbox_inserts_refused() -> Iterator[None]:
    """PostgreSQL refuses every outbox INSERT: the submission row is written by then."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'outbox write failed'; END $$;
            CREATE TRIGGER test_refuse_outbox BEFORE INSERT ON commitlog_outboxevent
                FOR EACH ROW EXECUTE FUNCTION test_refuse_outbox();
            """
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER test_refuse_outbox ON commitlog_outboxevent;"
                "DROP FUNCTION test_refuse_outbox();"
            )


@pytest.mark.django_db(transaction=True)
def test_failure_between_submission_and_outbox_writes_leaves_neither(
    api_token: str,
) -> None:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    body = submission_body()
    with outbox_inserts_refused():
        response = client.post("/strategies", body, format="json")
    assert response.status_code == 500
    assert StrategySubmission.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
    # Nothing else was wrong with the request: once PostgreSQL takes outbox rows again,
    # the same body is accepted and both rows are there.
    assert client.post("/strategies", body, format="json").status_code == 202
    assert StrategySubmission.objects.count() == 1
    assert OutboxEvent.objects.count() == 1


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
@pytest.mark.parametrize("worlds", [[], ["w1", "w2"]], ids=["global scope", "a tenant's scope"])
def test_two_identical_submissions_racing_give_one_202_and_one_409(
    api_token: str, monkeypatch: pytest.MonkeyPatch, worlds: list[str]
) -> None:
    """Both requests are validated and about to insert at the same time; the unique
    (dag_hash, owner_scope) index decides, and the loser answers 409 with the winner's id."""
    body = submission_body()
    limits = credential_limits(worlds=worlds)
    token = credential_issue(name="racer", limits=limits).token if worlds else api_token

    def submit(client: APIClient) -> Any:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.post("/strategies", body, format="json")

    results = race_two(monkeypatch, strategies, submit)

    statuses = sorted(r.status_code for r in results)
    assert statuses == [202, 409], [r.json() for r in results]
    winner = next(r for r in results if r.status_code == 202).json()["strategy_id"]
    loser = next(r for r in results if r.status_code == 409).json()
    assert loser["code"] == "E_DUPLICATE"
    assert loser["strategy_id"] == winner
    assert StrategySubmission.objects.count() == 1
    assert OutboxEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_submission_in_autocommit_writes_every_column_of_both_rows(api_token: str) -> None:
    """Outside a transaction the two rows are written by one statement that names every
    column: defaults included, they must read back as the models define them."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    body = submission_body(world_ids=["w1", "w2"])
    body.pop("meta", None)
    response = client.post("/strategies", body, format="json")
    assert response.status_code == 202, response.json()

    submission = StrategySubmission.objects.get()
    assert str(submission.strategy_id) == response.json()["strategy_id"]
    assert (submission.world_ids, submission.world_id) == (["w1", "w2"], "w1")
    assert submission.meta is None
    assert submission.dag["nodes"][-1]["node_type"] == "VersionSentinel"
    # Without meta there is no execution domain to trust: the submission is downgraded.
    assert (submission.downgraded, submission.downgrade_reason) == (True, "decision_unavailable")
    assert submission.status == "accepted"
    assert submission.published_at is None
    assert submission.recorded_at is None
    assert submission.commitlog_partition is None
    assert submission.commitlog_offset is None

    outbox = OutboxEvent.objects.get()
    assert (outbox.event, outbox.aggregate_id) == ("gateway.ingest", str(submission.strategy_id))
    assert (outbox.state, outbox.attempts, outbox.last_error) == ("pending", 0, "")
    assert outbox.next_attempt_at == outbox.created_at == submission.submitted_at
    assert outbox.published_at is None
    assert outbox.published_offset is None
    assert outbox.published_partition is None
    assert decode_value(bytes(outbox.value)).payload["dag"] == submission.dag
