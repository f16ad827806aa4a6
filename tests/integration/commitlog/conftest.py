"""Fixtures the commit log's integration tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis


@pytest.fixture
def broker(celery_broker_url: str, celery_queue: str) -> Iterator[redis.Redis]:
    """The Celery broker's Redis; this test's queue and mark are removed afterwards."""
    client = redis.Redis.from_url(celery_broker_url)
    yield client
    client.delete(celery_queue, f"relay-nudge-queued:{celery_queue}")
