"""A Celery broker that is away never slows a write: the nudge after the commit is sent by
the process's sender thread, and the outage is logged once, not per write. Against a real
Redis behind the fault proxy (blackholed: connections accepted, nothing answered) and a
refused port; writes through the REST API."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from commitlog.outbox import nudge
from devstack.net import free_port
from reliability.proxy import FaultProxy, Link
from tests.support.bodies import make_dag, submission_body
from tests.support.celery_broker import celery_broker_at
from tests.support.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE = "event=relay_nudge_broker_unavailable"


@pytest.fixture
def nudging(settings: Any, celery_queue: str) -> None:
    # The writer is enabled by a bootstrap and a topic; nothing is published here.
    settings.COMMITLOG_BOOTSTRAP = "127.0.0.1:9"
    settings.COMMITLOG_TOPIC = "unused"
    settings.RELAY_NUDGE_ENABLED = True
    settings.RELAY_NUDGE_QUEUED_TTL_SECONDS = 60.0
    nudge.broker_outage.recovered()  # a previous test's outage is not this one's


@pytest.fixture
def redis_link(celery_broker_url: str) -> Iterator[Link]:
    proxy = FaultProxy().start()
    try:
        yield proxy.add("redis", redis.Redis.from_url(celery_broker_url).connection_pool
                        .connection_kwargs["port"])  # fmt: skip
    finally:
        proxy.stop()


def write(api: APIClient, name: str) -> None:
    response = api.post("/strategies", submission_body(make_dag(name)), format="json")
    assert response.status_code == 202, response.content


def outage_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(f"{OUTAGE} ")]


def test_a_blackholed_broker_holds_the_nudge_not_the_write(
    api: APIClient, nudging: None, redis_link: Link, celery_broker_url: str,
    celery_queue: str, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    queue = redis.Redis.from_url(celery_broker_url)
    url = celery_broker_url.replace(
        f":{queue.connection_pool.connection_kwargs['port']}", f":{redis_link.port}"
    )
    caplog.set_level(logging.INFO)
    with celery_broker_at(url):
        write(api, "warm")  # the sender thread and its connections, while the link is clear
        wait_for(lambda: queue.llen(celery_queue) == 1, 30, "the first nudge")
        nudge.relay_run_starting()
        redis_link.set_blackhole(True)
        write(api, "held")
        # The write has its answer while its nudge is still caught in the blackhole: no
        # part of the send has given up yet (the mark's read waits 0.5 s, the send 2 s).
        assert not outage_records(caplog)
        write(api, "another")
        wait_for(lambda: bool(outage_records(caplog)), 30, "the outage's warning")
        write(api, "a third")
        wait_for(lambda: not nudge.sender.sending.is_set(), 30, "the sender to give up")
        redis_link.set_blackhole(False)
        write(api, "after")
        wait_for(lambda: queue.llen(celery_queue) == 2, 30, "a nudge once the broker is back")
    [outage] = outage_records(caplog)  # once for the whole outage, from the sender's thread
    assert outage.thread != threading.get_ident()
    assert any("relay_nudge_broker_unavailable_recovered" in r.getMessage() for r in caplog.records)


def test_a_refused_broker_is_logged_once_by_the_sender_not_the_request(
    api: APIClient, nudging: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with celery_broker_at(f"redis://127.0.0.1:{free_port()}/0"):
        for index in range(3):
            write(api, f"refused-{index}")
        wait_for(lambda: bool(outage_records(caplog)), 30, "the outage's warning")
        wait_for(lambda: not nudge.sender.sending.is_set(), 30, "the sender to finish")
    [outage] = outage_records(caplog)
    assert outage.thread != threading.get_ident()  # the request thread never met the broker
