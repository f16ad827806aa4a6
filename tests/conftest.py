from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from commitlog.upkeep.topics import commitlog_topic_ensure
from config.yaml_file import GatewayConfig
from controlplane.domain import clock
from controlplane.services.credentials import credential_issue
from devstack.bodies import chain_dag, node_ids_crc32, strategy_body
from devstack.database import embedded_only
from devstack.kafka import EmbeddedKafka
from devstack.redis import LOCAL_SERVICE_URL as LOCAL_REDIS_URL
from devstack.redis import EmbeddedRedis
from devstack.redis import is_reachable as is_redis_reachable

# `bin/test --unit` runs the properties with a tenth of their examples, to answer in seconds.
EXAMPLES_SCALE = float(os.environ.get("TEST_EXAMPLES_SCALE", "1"))


def examples(count: int) -> int:
    """A property's number of examples, scaled for quick runs."""
    return max(10, round(count * EXAMPLES_SCALE))


def crc_of(node_ids: list[str]) -> int:
    return node_ids_crc32(node_ids)


def make_dag(*node_ids: str, **extra: Any) -> dict[str, Any]:
    return chain_dag(node_ids, **extra)


def submission_body(dag: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid POST /strategies body (base64 DAG), with fields overridden as given."""
    dag = dag if dag is not None else make_dag("a", "b", "c")
    fields: dict[str, Any] = {"meta": {"execution_domain": "live"}, "world_ids": ["w1"]}
    fields.update(overrides)
    return strategy_body(dag, **fields)


def race_two(
    monkeypatch: pytest.MonkeyPatch, service: ModuleType, request: Callable[[APIClient], Any]
) -> list[Any]:
    """Two threads' `request`s released together at `service`'s `now_stamp` (past
    validation, before any write), each with a client and a database connection of its
    own; their responses, in the order they came back."""
    barrier = threading.Barrier(2)
    original_stamp = clock.now_stamp

    def synchronised_stamp() -> Any:
        barrier.wait(timeout=10)
        return original_stamp()

    results: list[Any] = []

    def one() -> None:
        try:
            results.append(request(APIClient()))
        finally:
            connections.close_all()

    monkeypatch.setattr(service, "now_stamp", synchronised_stamp)
    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def api_token(db: None) -> str:
    return credential_issue(name="test client").token


@pytest.fixture
def api(api_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    return client


PRIVATE_PARTITIONS = 1

# --- Tiers -------------------------------------------------------------------------------

# Fixtures that bring a real server into a test: PostgreSQL, the broker, Redis.
_SERVER_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_setup", "live_server", "admin_client", "admin_user",
     "api", "api_token", "kafka_bootstrap", "commitlog", "private_broker",
     "celery_broker_url", "celery_queue"}
)  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test gets one tier: `system` (marked: it starts processes, a browser or
    faults), `integration` (PostgreSQL or a broker in process) or `unit` (no server)."""
    for item in items:
        if item.get_closest_marker("system"):
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        needs_server = item.get_closest_marker("django_db") or fixtures & _SERVER_FIXTURES
        item.add_marker(pytest.mark.integration if needs_server else pytest.mark.unit)


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
def commitlog(settings: Any, kafka_bootstrap: str) -> GatewayConfig:
    """A fresh compacted topic and transactional id for one test, set in settings.GATEWAY."""
    suffix = uuid.uuid4().hex[:10]
    settings.GATEWAY = replace(
        settings.GATEWAY,
        commitlog_bootstrap=kafka_bootstrap,
        commitlog_topic=f"commit-log-{suffix}",
        commitlog_group=f"gateway-commits-{suffix}",
        commitlog_transactional_id=f"gateway-writer-{suffix}",
    )
    settings.RELAY_PUBLISH_TIMEOUT_SECONDS = 5.0
    commitlog_topic_ensure(partitions=3, replication_factor=1)
    gateway: GatewayConfig = settings.GATEWAY
    return gateway


@pytest.fixture
def private_broker(settings: Any) -> Iterator[EmbeddedKafka]:
    """A broker of the test's own (settings.GATEWAY points at it), for tests that stop and
    restart it without disturbing the others; its topic has PRIVATE_PARTITIONS partitions."""
    broker = EmbeddedKafka()
    broker.start()
    suffix = uuid.uuid4().hex[:10]
    settings.GATEWAY = replace(
        settings.GATEWAY,
        commitlog_bootstrap=broker.bootstrap,
        commitlog_topic="commit-log",
        commitlog_group=f"gateway-commits-{suffix}",
        commitlog_transactional_id=f"gateway-writer-{suffix}",
    )
    settings.RELAY_PUBLISH_TIMEOUT_SECONDS = 2.0
    commitlog_topic_ensure(partitions=PRIVATE_PARTITIONS, replication_factor=1)
    try:
        yield broker
    finally:
        broker.stop()


def restart_private_broker(broker: EmbeddedKafka) -> None:
    """Stop and start on the same port; memory storage comes back empty, so the topic too."""
    broker.stop()
    broker.start()
    commitlog_topic_ensure(partitions=PRIVATE_PARTITIONS, replication_factor=1)


@pytest.fixture(autouse=True)
def _no_relay_nudges_by_default(settings: Any) -> None:
    # Tests run the relay themselves; the Celery test turns nudges back on.
    settings.RELAY_NUDGE_ENABLED = False


@pytest.fixture(autouse=True)
def _no_throttling_by_default(settings: Any) -> None:
    # Property tests send hundreds of calls with one credential; the throttle's tests
    # (test_throttling) set rates of their own.
    settings.API_LIMITS = replace(settings.API_LIMITS, write_rate=None, read_rate=None)


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
