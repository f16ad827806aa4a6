"""The relay nudge: never skipped, at once when quiet, and not sent again while one is
queued (a Redis broker) or, with another broker, shared by commits under load.

The queued-nudge mark is tested against a real Redis (the Celery broker of the test run).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import redis
from django.db import transaction

from commitlog import nudge
from commitlog.nudge import LocalGate, Nudger, QueuedNudgeMark
from tests.processes import wait_for


class Sends:
    """Records each nudge sent: when, and from which thread."""

    def __init__(self) -> None:
        self.at: list[float] = []
        self.threads: list[str] = []
        self.changed = threading.Condition()

    def __call__(self) -> None:
        with self.changed:
            self.at.append(time.monotonic())
            self.threads.append(threading.current_thread().name)
            self.changed.notify_all()

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10) -> bool:
        with self.changed:
            return self.changed.wait_for(condition, timeout=timeout)


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> Sends:
    recorder = Sends()
    monkeypatch.setattr(nudge, "_send_nudge", recorder)
    return recorder


def test_every_request_is_followed_by_a_send_and_bursts_share_sends(sends: Sends) -> None:
    nudger = Nudger(LocalGate())
    for _ in range(199):
        nudger.request()
    before_last = time.monotonic()
    nudger.request()
    # The last request must get a send that began after it, however the burst went.
    assert sends.wait_for(lambda: bool(sends.at) and sends.at[-1] >= before_last)
    assert len(sends.at) < 200


def test_a_request_after_a_quiet_spell_is_sent_at_once_on_its_own_thread(sends: Sends) -> None:
    nudger = Nudger(LocalGate())
    nudger.request()
    assert sends.threads == [threading.current_thread().name]


def test_a_shut_out_nudge_waits_for_the_time_the_gate_has_left_not_a_whole_interval(
    sends: Sends,
) -> None:
    nudger = Nudger(LocalGate(interval_s=1.0))
    nudger.request()  # opens the 1 s gate
    opened = sends.at[0]
    time.sleep(0.5)  # the scenario: the next commit comes half-way through the interval
    nudger.request()
    assert sends.wait_for(lambda: len(sends.at) == 2)
    # Sent when the gate reopens, about 1 s after it opened; not 1 s after the request.
    assert 0.9 <= sends.at[1] - opened < 1.3


class ScriptedGate:
    """Answers try_open from a script (seconds the gate stays shut; 0 opens it)."""

    interval_s = 1.0

    def __init__(self, *answers: float) -> None:
        self.answers = list(answers)
        self.asked = 0

    def try_open(self) -> float:
        self.asked += 1
        return self.answers.pop(0) if self.answers else 0.0


def test_a_due_nudge_is_left_out_when_another_process_opened_the_gate_after_the_commit(
    sends: Sends,
) -> None:
    # The commit finds the gate shut; the thread's first look finds it opened 0.5 s
    # before (before the commit): it waits. When it looks again, someone opened it 5 ms
    # ago, after the commit: that nudge follows the commit, so none is sent here.
    gate = ScriptedGate(0.9, 0.5, 0.995)
    nudger = Nudger(gate)
    nudger.request()
    wait_for(lambda: gate.asked == 3 and not nudger._in_hand, 10, "the thread to decide")
    assert sends.at == []


def test_a_due_nudge_is_sent_when_the_gate_was_opened_before_the_commit(sends: Sends) -> None:
    gate = ScriptedGate(0.9, 0.05, 0.0)
    nudger = Nudger(gate)
    nudger.request()
    assert sends.wait_for(lambda: len(sends.at) == 1)
    assert sends.threads == ["relay-nudge"]
    assert gate.asked == 3


# --- The queued-nudge mark (a Redis broker) ------------------------------------------


@pytest.fixture
def broker(celery_broker_url: str, celery_queue: str) -> Iterator[redis.Redis]:
    """The Celery broker's Redis; this test's queue and mark are removed afterwards."""
    client = redis.Redis.from_url(celery_broker_url)
    yield client
    client.delete(celery_queue, f"relay-nudge-queued:{celery_queue}")


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
    from commitlog.tasks import relay_outbox_task

    settings.RELAY_NUDGE_QUEUED_TTL_SECONDS = 60.0

    def refused(**options: Any) -> None:
        raise OSError("the broker refused the message")

    monkeypatch.setattr(relay_outbox_task, "apply_async", refused)
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


def test_an_unreachable_redis_leaves_the_mark_open() -> None:
    mark = QueuedNudgeMark("redis://127.0.0.1:1/0", "unused", ttl_s=1.0)
    assert mark.try_set()
    assert mark.try_set()
    mark.clear()  # logged, not raised


@pytest.mark.django_db(transaction=True)
def test_a_commit_sends_its_nudge_before_it_returns_when_none_is_queued(
    broker: redis.Redis, celery_queue: str, settings: Any
) -> None:
    # The writer is enabled by a bootstrap and a topic; nothing is published here.
    settings.GATEWAY = replace(
        settings.GATEWAY, commitlog_bootstrap="127.0.0.1:9", commitlog_topic="unused"
    )
    settings.RELAY_NUDGE_ENABLED = True
    settings.RELAY_NUDGE_QUEUED_TTL_SECONDS = 60.0
    with transaction.atomic():
        nudge.nudge_relay_on_commit()
        assert broker.llen(celery_queue) == 0  # not before the commit
    # Sent by the committing thread (no background thread with a Redis broker).
    assert broker.llen(celery_queue) == 1
    for _ in range(5):
        with transaction.atomic():
            nudge.nudge_relay_on_commit()
    assert broker.llen(celery_queue) == 1  # the queued nudge covers these commits
    # A run starts: the next commit sends at once, however recent the last nudge was.
    nudge.relay_run_starting()
    with transaction.atomic():
        nudge.nudge_relay_on_commit()
    assert broker.llen(celery_queue) == 2
