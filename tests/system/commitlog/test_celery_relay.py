"""A real Celery worker process, a real Celery broker and Kafka: the on_commit nudge publishes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from commitlog.models import OutboxEvent, OutboxState
from config.celery import app as celery_app
from controlplane.models import StrategySubmission
from tests.support.bodies import make_dag, submission_body
from tests.support.kafka_reader import read_topic
from tests.support.paths import ROOT
from tests.support.processes import ChildProcess, database_url, retire, service_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(
    commitlog: CommitLogSettings, celery_broker_url: str, celery_queue: str
) -> Iterator[ChildProcess]:
    env = {
        "PROFILE": "dev",
        "DATABASE_URL": database_url(),
        "COMMITLOG_BOOTSTRAP": commitlog.commitlog_bootstrap,
        "COMMITLOG_TOPIC": commitlog.commitlog_topic,
        "COMMITLOG_TRANSACTIONAL_ID": commitlog.commitlog_transactional_id,
        "CELERY_BROKER_URL": celery_broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": celery_queue,
    }
    command = ["-m", "celery", "-A", "config", "worker", "--pool", "prefork"]
    command += ["--concurrency", "1", "--queues", celery_queue, "--without-gossip"]
    command += ["--without-mingle", "--loglevel", "INFO"]
    process = service_process(command, env)
    try:
        yield process
    finally:
        retire(process)  # SIGTERM: a warm shutdown


def test_on_commit_nudge_makes_a_worker_publish_the_submission(
    worker: ChildProcess,
    commitlog: CommitLogSettings,
    api: APIClient,
    settings: Any,
    celery_broker_url: str,
    celery_queue: str,
) -> None:
    settings.RELAY_NUDGE_ENABLED = True
    settings.RELAY_NUDGE_QUEUED_TTL_SECONDS = 60.0
    response = api.post(
        "/strategies", submission_body(make_dag("celery-1", "celery-2")), format="json"
    )
    assert response.status_code == 202
    strategy_id = response.json()["strategy_id"]

    def published() -> bool:
        assert worker.alive, f"the worker died:\n{worker.output()}"
        return StrategySubmission.objects.filter(
            strategy_id=strategy_id, status="published"
        ).exists()

    # No beat runs in this test: only the nudge can have started the relay.
    wait_for(published, 90, "the worker to publish the submission")
    # The run the nudge started cleared the queued-nudge mark (its time to live is a
    # minute here), so the next commit's nudge goes out.
    assert not redis.Redis.from_url(celery_broker_url).exists(f"relay-nudge-queued:{celery_queue}")
    row = OutboxEvent.objects.get(aggregate_id=strategy_id)
    assert row.state == OutboxState.PUBLISHED
    keys = [r.key for r in read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)]
    assert keys == [f"ingest:{strategy_id}".encode()]

    # The worker keeps its producer: a second submission goes through the same process.
    second = api.post("/strategies", submission_body(make_dag("celery-3")), format="json").json()
    wait_for(
        lambda: StrategySubmission.objects.filter(
            strategy_id=second["strategy_id"], status="published"
        ).exists(),
        60,
        "the second submission",
    )


def test_celery_broker_outage_does_not_fail_the_request(
    api: APIClient, settings: Any, commitlog: CommitLogSettings
) -> None:
    settings.RELAY_NUDGE_ENABLED = True
    saved = celery_app.conf.broker_url
    celery_app.conf.update(broker_url="redis://127.0.0.1:1/0")
    try:
        response = api.post("/strategies", submission_body(make_dag("nudge-lost")), format="json")
    finally:
        celery_app.conf.update(broker_url=saved)
    assert response.status_code == 202
    assert StrategySubmission.objects.filter(strategy_id=response.json()["strategy_id"]).exists()
    row = OutboxEvent.objects.get(aggregate_id=response.json()["strategy_id"])
    assert row.state == OutboxState.PENDING  # beat will relay it once a worker is reachable


def test_a_django_process_binds_the_relay_task_to_the_project_app() -> None:
    """The web process never imports config.celery itself: Django's start-up must."""
    code = (
        "import django; django.setup();"
        "from commitlog.tasks import relay_outbox_task;"
        "print(relay_outbox_task.app.main, relay_outbox_task.app.conf.task_default_queue)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["controlplane", "controlplane"]
