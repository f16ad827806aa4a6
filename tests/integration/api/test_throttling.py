"""Rates per credential: a burst beyond the rate hears 429 E_THROTTLED with Retry-After and
writes nothing more; counters live in Redis (real PostgreSQL, real Redis)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from commitlog.models import MetricCounter, OutboxEvent
from commitlog.telemetry.degraded import COUNTER as DEGRADED_COUNTER
from controlplane.api import throttling
from controlplane.models import RebalanceBatch, StrategySubmission
from controlplane.services.credentials import credential_issue
from tests.support.bodies import submission_body
from tests.support.throttling import READS, WRITES

pytestmark = pytest.mark.django_db


def limits(settings: Any, **changes: Any) -> None:
    settings.API_LIMITS = replace(settings.API_LIMITS, **changes)


@pytest.fixture(autouse=True)
def _rates(settings: Any) -> None:
    limits(settings, write_rate=(WRITES, 86400.0), read_rate=(READS, 86400.0))


def batch(api: APIClient, world: str = "w1") -> Any:
    body = {"world_id": world, "scope": "per_world", "orders": [{"symbol": "A", "qty": 1}]}
    return api.post("/rebalancing/batches", body, format="json")


def client_for(name: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential_issue(name=name).token}")
    return client


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "E_THROTTLED"
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 86400


def test_a_burst_beyond_the_write_rate_is_refused_and_writes_nothing(
    api: APIClient, redis_cache: str, celery_broker_url: str
) -> None:
    accepted = [batch(api) for _ in range(WRITES)]
    assert [r.status_code for r in accepted] == [202] * WRITES
    for _ in range(4):
        assert_throttled(batch(api))
    # Writes share one count: a strategy is refused as well, before anything is read.
    assert_throttled(api.post("/strategies", submission_body(), format="json"))
    assert RebalanceBatch.objects.count() == WRITES
    assert OutboxEvent.objects.count() == WRITES
    assert StrategySubmission.objects.count() == 0

    # The count is in Redis, where every web process reads it.
    server = redis.Redis.from_url(celery_broker_url)
    [key] = server.keys(f"{redis_cache}:*throttle:write:*")
    assert int(server.get(key) or 0) == WRITES + 5


def test_reads_are_counted_apart_from_writes(api: APIClient, redis_cache: str) -> None:
    batch_id = batch(api).json()["batches"][0]["batch_id"]
    for _ in range(WRITES - 1):
        batch(api)
    assert_throttled(batch(api))
    reads = [api.get(f"/rebalancing/batches/{batch_id}") for _ in range(READS)]
    assert [r.status_code for r in reads] == [200] * READS
    assert_throttled(api.get(f"/rebalancing/batches/{batch_id}"))


def test_each_credential_has_its_own_count(api: APIClient, redis_cache: str) -> None:
    for _ in range(WRITES):
        batch(api)
    assert_throttled(batch(api))
    other = client_for("another client")
    assert batch(other).status_code == 202
    assert RebalanceBatch.objects.count() == WRITES + 1


@pytest.mark.parametrize("divisor", [1, 2])
def test_without_redis_each_process_holds_its_share_of_the_read_rate_and_says_so_once(
    api: APIClient, refused_cache: None, settings: Any, caplog: pytest.LogCaptureFixture,
    divisor: int,
) -> None:  # fmt: skip
    limits(settings, read_rate=(READS * 2, 86400.0), local_divisor=divisor)
    share = READS * 2 // divisor
    with caplog.at_level(logging.INFO):
        reads = [api.get("/strategies/unknown/status") for _ in range(share)]
        assert [r.status_code for r in reads] == [404] * share
        assert_throttled(api.get("/strategies/unknown/status"))
    fallbacks = [r for r in caplog.records if "event=throttle_local_fallback " in r.getMessage()]
    assert len(fallbacks) == 1, caplog.text  # once for the outage, not per call
    counted = MetricCounter.objects.get(name=DEGRADED_COUNTER, label="throttle_local_fallback")
    assert counted.value >= 1


def test_fail_open_lets_calls_through_without_redis(
    api: APIClient, refused_cache: None, settings: Any
) -> None:
    limits(settings, write_rate=(1, 86400.0), fail_open=True)
    assert [batch(api).status_code for _ in range(3)] == [202] * 3


def test_redis_back_is_shared_again(api: APIClient, redis_cache: str) -> None:
    throttling.shared_outage.failed("a test's outage")
    throttling._retry_shared_at = 0.0  # the retry is due
    assert batch(api).status_code == 202
    assert not throttling.shared_outage.down


def test_rates_off_count_nothing(api: APIClient, redis_cache: str, settings: Any) -> None:
    limits(settings, write_rate=None)
    assert [batch(api).status_code for _ in range(WRITES + 2)] == [202] * (WRITES + 2)


def test_rates_are_read_as_a_count_per_period() -> None:
    from config.env import EnvReader

    read = EnvReader({"A": "10/s", "B": "5/min", "C": "off", "D": "7/week", "E": "0/h"})
    assert read.rate("A", "1/h") == (10, 1.0)
    assert read.rate("B", "1/h") == (5, 60.0)
    assert read.rate("C", "1/h") is None
    assert read.rate("D", "2/day") == (2, 86400.0)  # refused, the default instead
    assert read.rate("E", "off") is None
    assert read.rate("F", "3/h") == (3, 3600.0)
    assert [p.split("=")[0] for p in read.problems] == ["D", "E"], read.problems


def test_the_throttle_runs_in_drf_initial_for_every_api_view() -> None:
    from controlplane.api import views as api
    from controlplane.api.throttling import CredentialRateThrottle

    for view in (api.StrategySubmitView, api.RebalanceBatchView, api.StrategyStatusView):
        assert [type(t) for t in view().get_throttles()] == [CredentialRateThrottle]
