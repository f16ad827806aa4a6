"""The relay nudge: never skipped, sent at once, and not sent again while one is queued
(a Redis broker); with another broker, one per commit.

The queued-nudge mark is tested against a real Redis (the Celery broker of the test run).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis
from django.db import transaction

from commitlog.outbox import nudge
from commitlog.outbox.nudge import QueuedNudgeMark
from config.celery import app as celery_app
from tests.support.processes import wait_for

# --- The queued-nudge mark (a Redis broker) ------------------------------------------


def test_a_queued_nudge_spares_later_commits_theirs_until_its_relay_run_starts(
    broker: redis.Redis, celery_queue: str, settings: Any
) -> None:
    settings.RELAY_NUDGE_QUEUED_TTL_SECONDS = 60.0
    for _ in range(3):
        nudge._nudge_after_commit()
    assert broker.llen(celery_queue) == 1  # one message, read from the broker itself
    nudge.relay_run_starting()  # what the relay task does before its first claim
    nudge._nudge_after_commit()
    nudge._nudge_after_commit()
    assert broker.llen(celery_queue) == 2


def test_a_send_that_fails_leaves_no_mark_behind(
    broker: redis.Redis, celery_queue: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.RELAY_NUDGE_QUEUED_TTL_SECONDS = 60.0

    def refused(*args: Any, **options: Any) -> None:
        raise OSError("the broker refused the message")

    monkeypatch.setattr(celery_app, "send_task", refused)
    nudge._nudge_after_commit()
    assert not broker.exists(f"relay-nudge-queued:{celery_queue}")
    monkeypatch.undo()
    nudge._nudge_after_commit()
    assert broker.llen(celery_queue) == 1


def test_the_queued_mark_lapses_after_its_time_to_live(celery_broker_url: str) -> None:
    key = f"test-nudge-queued:{uuid.uuid4().hex}"
    one = QueuedNudgeMark(celery_broker_url, key, ttl_s=0.3)
    other = QueuedNudgeMark(celery_broker_url, key, ttl_s=0.3)
    assert one.try_set()
    assert not other.try_set()  # shared by every process on the broker
    # A run that never cleared it (a nudge lost after being marked) delays nudges this long.
    wait_for(other.try_set, 10, "the mark to lapse")
    other.clear()
    assert one.try_set()
    one.clear()


@pytest.mark.django_db(transaction=True)
def test_a_commit_has_its_nudge_sent_after_it_when_none_is_queued(
    broker: redis.Redis, celery_queue: str, settings: Any
) -> None:
    # The writer is enabled by a bootstrap and a topic; nothing is published here.
    settings.COMMITLOG_BOOTSTRAP = "127.0.0.1:9"
    settings.COMMITLOG_TOPIC = "unused"
    settings.RELAY_NUDGE_ENABLED = True
    settings.RELAY_NUDGE_QUEUED_TTL_SECONDS = 60.0
    with transaction.atomic():
        nudge.nudge_relay_on_commit()
        assert broker.llen(celery_queue) == 0  # not before the commit
        assert not nudge.sender.sending.is_set()
    # Sent by the process's sender thread (commitlog.outbox.nudge_sender), after the commit.
    wait_for(lambda: broker.llen(celery_queue) == 1, 30, "the commit's nudge")
    for _ in range(5):
        with transaction.atomic():
            nudge.nudge_relay_on_commit()
    wait_for(lambda: not nudge.sender.sending.is_set(), 30, "the sender to be idle")
    assert broker.llen(celery_queue) == 1  # the queued nudge covers these commits
    # A run starts: the next commit sends, however recent the last nudge was.
    nudge.relay_run_starting()
    with transaction.atomic():
        nudge.nudge_relay_on_commit()
    wait_for(lambda: broker.llen(celery_queue) == 2, 30, "the next commit's nudge")
