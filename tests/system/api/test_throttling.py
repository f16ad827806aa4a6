"""Rates per credential: a burst beyond the rate hears 429 E_THROTTLED with Retry-After and
writes nothing more; counters live in Redis (real PostgreSQL, real Redis)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from commitlog.models import OutboxEvent
from controlplane.models import RebalanceBatch
from controlplane.services.credentials import credential_issue
from tests.support.processes import gunicorn
from tests.support.throttling import WRITES

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_workers_of_a_served_app_share_one_count(celery_broker_url: str) -> None:
    """Two gunicorn workers, one Redis: the burst's fourth write and later are refused,
    whichever worker takes them, and the database holds the first three only."""
    token = credential_issue(name="bursty").token
    env = {
        "CELERY_BROKER_URL": celery_broker_url,
        "CACHE_KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex[:8]}",
        "API_THROTTLE_WRITE_RATE": f"{WRITES}/day",
    }
    body = {"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A", "qty": 1}]}
    with gunicorn(env, workers=2) as (base, _server):
        statuses = [
            httpx.post(f"{base}/rebalancing/batches", json=body, timeout=10,
                       headers={"Authorization": f"Bearer {token}"}).status_code
            for _ in range(WRITES + 5)
        ]  # fmt: skip
    assert statuses == [202] * WRITES + [429] * 5
    assert RebalanceBatch.objects.count() == WRITES
    assert OutboxEvent.objects.count() == WRITES
