from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings, commitlog_settings
from commitlog.upkeep.topics import commitlog_topic_ensure
from controlplane.api import throttling
from controlplane.services.credentials import credential_issue
from devstack.database import embedded_only
from devstack.kafka import EmbeddedKafka
from devstack.net import free_port
from devstack.redis import LOCAL_SERVICE_URL as LOCAL_REDIS_URL
from devstack.redis import EmbeddedRedis
from devstack.redis import is_reachable as is_redis_reachable
from reliability.proxy import Link
from tests.support.brokers import PRIVATE_PARTITIONS, broker_behind_proxy
from tests.support.tiers import misplaced, tier_of


@pytest.fixture
def api_token(db: None) -> str:
    return credential_issue(name="test client").token


@pytest.fixture
def api(api_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    return client


# --- Tiers -------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test gets the tier of its folder: `unit` (no server), `integration`
    (PostgreSQL or a broker in process) or `system` (processes, a browser or faults)."""
    errors = []
    for item in items:
        tier = tier_of(Path(item.path))
        error = misplaced(item, tier)
        if error:
            errors.append(error)
        elif tier:
            item.add_marker(getattr(pytest.mark, tier))
    if errors:
        raise pytest.UsageError("\n".join(errors))


# --- Brokers ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A real Kafka-protocol broker: TEST_COMMITLOG_BOOTSTRAP if given, else embedded Tansu."""
    configured = os.environ.get("TEST_COMMITLOG_BOOTSTRAP", "").strip()
    if configured:
        yield configured
        return
    broker = EmbeddedKafka()
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture
def commitlog(settings: Any, kafka_bootstrap: str) -> CommitLogSettings:
    """A fresh compacted topic and transactional id for one test, set in the settings."""
    suffix = uuid.uuid4().hex[:10]
    settings.COMMITLOG_BOOTSTRAP = kafka_bootstrap
    settings.COMMITLOG_TOPIC = f"commit-log-{suffix}"
    settings.COMMITLOG_GROUP = f"gateway-commits-{suffix}"
    settings.COMMITLOG_TRANSACTIONAL_ID = f"gateway-writer-{suffix}"
    settings.RELAY_PUBLISH_TIMEOUT_SECONDS = 5.0
    commitlog_topic_ensure(partitions=3, replication_factor=1)
    return commitlog_settings()


def _own_broker(settings: Any, bootstrap: str) -> None:
    """The settings at a broker of the test's own, its topic of PRIVATE_PARTITIONS made."""
    suffix = uuid.uuid4().hex[:10]
    settings.COMMITLOG_BOOTSTRAP = bootstrap
    settings.COMMITLOG_TOPIC = "commit-log"
    settings.COMMITLOG_GROUP = f"gateway-commits-{suffix}"
    settings.COMMITLOG_TRANSACTIONAL_ID = f"gateway-writer-{suffix}"
    settings.RELAY_PUBLISH_TIMEOUT_SECONDS = 2.0
    commitlog_topic_ensure(partitions=PRIVATE_PARTITIONS, replication_factor=1)


@pytest.fixture
def private_broker(settings: Any) -> Iterator[EmbeddedKafka]:
    """A broker of the test's own (the settings point at it), for tests that stop and
    restart it without disturbing the others; its topic has PRIVATE_PARTITIONS partitions."""
    broker = EmbeddedKafka()
    broker.start()
    try:
        _own_broker(settings, broker.bootstrap)
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def proxied_broker(settings: Any, tmp_path: Path) -> Iterator[Link]:
    """A broker of the test's own reached only through a fault proxy link (the settings
    point at the link), for tests that cut it off; its topic has PRIVATE_PARTITIONS."""
    with broker_behind_proxy(tmp_path / "kafka.log") as link:
        _own_broker(settings, link.address)
        yield link


@pytest.fixture(autouse=True)
def _no_relay_nudges_by_default(settings: Any) -> None:
    # Tests run the relay themselves; the Celery test turns nudges back on.
    settings.RELAY_NUDGE_ENABLED = False


@pytest.fixture(autouse=True)
def _no_throttling_by_default(settings: Any) -> None:
    # Property tests send hundreds of calls with one credential; the throttle's tests
    # (test_throttling) set rates of their own.
    settings.API_LIMITS = replace(
        settings.API_LIMITS, write_rate=None, read_rate=None, auth_failure_rate=None
    )


@pytest.fixture
def redis_cache(settings: Any, celery_broker_url: str) -> str:
    """Django's cache (and so the throttle's counters) on the test Redis, under a prefix of
    this test's own."""
    prefix = f"throttle-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": celery_broker_url,
            "KEY_PREFIX": prefix,
        }
    }
    return prefix


@pytest.fixture
def refused_cache(settings: Any) -> Iterator[None]:
    """Django's cache at a port nothing listens on; the outage ends with the test."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        }
    }
    throttling.shared_outage.recovered()
    yield
    throttling.shared_outage.recovered()


@pytest.fixture
def celery_queue(celery_broker_url: str) -> Iterator[str]:
    """This test's own queue on the Celery broker, so no other run's tasks reach it."""
    from config.celery import app as celery_app

    queue = f"relay-test-{uuid.uuid4().hex[:8]}"
    saved = {
        "broker_url": celery_app.conf.broker_url,
        "task_default_queue": celery_app.conf.task_default_queue,
    }
    celery_app.conf.update(broker_url=celery_broker_url, task_default_queue=queue)
    try:
        yield queue
    finally:
        celery_app.conf.update(**saved)


@pytest.fixture(scope="session")
def celery_broker_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Redis for Celery: the machine's service if it answers, else an embedded server."""
    if not embedded_only() and is_redis_reachable(LOCAL_REDIS_URL):
        yield LOCAL_REDIS_URL
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
