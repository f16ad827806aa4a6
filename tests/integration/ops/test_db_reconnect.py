"""A kept connection the server dropped between two requests is replaced at the next
request's first statement (config/db_retry.py); nothing else is retried. Real PostgreSQL:
the backend is terminated from another connection, either between the requests (the
server's goodbye waits on the socket) or just before the first statement is sent (it
fails on the wire)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import psycopg
import pytest
from django.core.signals import request_started
from django.db import OperationalError, close_old_connections, connection, transaction
from rest_framework.test import APIClient

from commitlog.models import MetricCounter, OutboxEvent
from commitlog.telemetry.degraded import COUNTER as DEGRADED_COUNTER
from config.db_retry import EVENT
from controlplane.models import RebalanceBatch, StrategySubmission
from tests.support.bodies import make_dag, submission_body

pytestmark = pytest.mark.django_db(transaction=True)

REBALANCE = {"per_world": {"w1": [{"symbol": "A", "quantity": 1}]}}


def _backend_pid() -> int:
    return int(connection.connection.info.backend_pid)


def _terminate_backend() -> None:
    """Ends this connection's backend and waits until it is gone."""
    pid = _backend_pid()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        row = admin.execute("SELECT pg_terminate_backend(%s, 10000)", [pid]).fetchone()
        assert row is not None
        assert row[0]


@contextmanager
def terminated_at_statement(number: int) -> Iterator[list[str]]:
    """The backend ends just before the `number`th statement (from 1) goes out; yields the
    statements as they were sent, retries included. Inside the guard's wrapper, so the
    guard has found the connection healthy by then."""
    sent: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append(sql)
        if len(sent) == number:
            _terminate_backend()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield sent


@pytest.fixture
def client(api_token: str, caplog: pytest.LogCaptureFixture) -> Iterator[APIClient]:
    caplog.set_level(logging.INFO, logger="config.db_retry")
    http = APIClient(raise_request_exception=False)
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    # A first request: the credential is looked up and cached, and the connection is kept.
    assert http.get("/strategies/none/status").status_code == 404
    yield http
    # What Django does after each request and the test client does not: a connection with
    # errors is closed (else the database's cleanup after the test would meet it).
    close_old_connections()


def _reconnections(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if f"event={EVENT} " in r.getMessage()]


def _counted() -> float:
    """controlplane_degraded_total{event="db_reconnected"}."""
    found = MetricCounter.objects.filter(name=DEGRADED_COUNTER, label=EVENT).first()
    return found.value if found is not None else 0.0


def _submitted(client: APIClient, *node_ids: str) -> str:
    response = client.post("/strategies", submission_body(make_dag(*node_ids)), format="json")
    assert response.status_code == 202, response.content
    return str(response.json()["strategy_id"])


def test_a_read_after_the_backend_ended_between_requests_runs_on_a_new_connection(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    strategy_id = _submitted(client, "a", "b")
    before = _backend_pid()
    _terminate_backend()
    assert client.get(f"/strategies/{strategy_id}/status").status_code == 200
    assert _backend_pid() != before
    (line,) = _reconnections(caplog)
    assert "when=before_statement in_atomic_block=False" in line


def test_a_read_whose_connection_fails_on_the_wire_is_retried_once(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    strategy_id = _submitted(client, "a", "b")
    with terminated_at_statement(1) as sent:
        assert client.get(f"/strategies/{strategy_id}/status").status_code == 200
    assert sent.count(sent[0]) == 2  # the same SELECT, twice
    (line,) = _reconnections(caplog)
    assert "when=statement_failed in_atomic_block=False" in line
    assert _counted() == 1


def test_a_submission_after_the_backend_ended_between_requests_is_written_once(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    _terminate_backend()
    strategy_id = _submitted(client, "a", "b")
    assert [str(s) for s in StrategySubmission.objects.values_list("strategy_id", flat=True)] == [
        strategy_id
    ]
    assert OutboxEvent.objects.count() == 1
    assert len(_reconnections(caplog)) == 1


def test_a_write_in_autocommit_that_fails_on_the_wire_is_not_retried(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    # It may have committed before its answer was lost: the request fails instead.
    with terminated_at_statement(1) as sent:
        response = client.post("/strategies", submission_body(), format="json")
    assert response.status_code == 503
    assert len(sent) == 1
    assert _reconnections(caplog) == []
    close_old_connections()  # as after any request; the next one has a new connection
    _submitted(client, "c", "d")
    assert StrategySubmission.objects.count() == 1


def test_a_transaction_whose_first_statement_fails_on_the_wire_is_run_once(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    # POST /rebalancing/batches: its first statement opens its transaction.
    with terminated_at_statement(1) as sent:
        response = client.post("/rebalancing/batches", REBALANCE, format="json")
    assert response.status_code == 202, response.content
    assert sent.count(sent[0]) == 2
    assert RebalanceBatch.objects.count() == 1
    assert OutboxEvent.objects.count() == 1
    (line,) = _reconnections(caplog)
    assert "when=statement_failed in_atomic_block=True" in line
    assert _counted() == 1  # once the transaction committed


def test_a_transaction_after_the_backend_ended_between_requests_commits_once(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    _terminate_backend()
    response = client.post("/rebalancing/batches", REBALANCE, format="json")
    assert response.status_code == 202, response.content
    assert RebalanceBatch.objects.count() == 1
    assert OutboxEvent.objects.count() == 1
    (line,) = _reconnections(caplog)
    assert "when=before_statement in_atomic_block=True" in line


def test_a_transaction_that_loses_its_connection_after_its_first_statement_writes_nothing(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with terminated_at_statement(2) as sent:
        response = client.post("/rebalancing/batches", REBALANCE, format="json")
    assert response.status_code == 503
    assert len(sent) == 2  # nothing sent again
    assert RebalanceBatch.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
    assert _reconnections(caplog) == []


@pytest.fixture
def cancelling_function() -> Iterator[str]:
    """A function that fails as an OperationalError on a connection that stays usable."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_cancelled() RETURNS int LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'cancelled' USING ERRCODE = 'query_canceled'; END $$"
        )
    yield "SELECT test_cancelled()"
    with connection.cursor() as cursor:
        cursor.execute("DROP FUNCTION test_cancelled()")


@pytest.mark.parametrize("in_atomic_block", [False, True])
def test_a_query_error_on_a_first_statement_is_raised_once(
    cancelling_function: str, in_atomic_block: bool
) -> None:
    before = _backend_pid()
    sent: list[str] = []

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append(sql)
        return execute(sql, params, many, context)

    request_started.send(sender=None)  # what a request's start does
    scope = transaction.atomic() if in_atomic_block else nullcontext()
    with (
        connection.execute_wrapper(counted),
        pytest.raises(OperationalError, match="cancelled"),
        scope,
        connection.cursor() as cursor,
    ):
        cursor.execute(cancelling_function)
    assert sent == [cancelling_function]
    assert _backend_pid() == before


def test_an_atomic_block_keeps_its_on_commit_callbacks_across_the_new_connection() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_reconnect_rows (n int)")
    try:
        committed: list[str] = []
        request_started.send(sender=None)  # what a request's start does
        with terminated_at_statement(1), transaction.atomic():
            transaction.on_commit(lambda: committed.append("done"))
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO test_reconnect_rows VALUES (1)")
                cursor.execute("INSERT INTO test_reconnect_rows VALUES (2)")
        assert committed == ["done"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT n FROM test_reconnect_rows ORDER BY n")
            assert cursor.fetchall() == [(1,), (2,)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE test_reconnect_rows")
