"""The relay nudge: at once when quiet, shared by commits under load, never skipped, and
not sent again while one is queued.

The Redis gate is tested against a real Redis (the Celery broker of the test run).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from commitlog import nudge
from commitlog.nudge import Gate, LocalGate, Nudger, QueuedNudgeMark, RedisGate
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


def redis_gate(url: str, interval_s: float = nudge.NUDGE_MIN_INTERVAL_S) -> RedisGate:
    return RedisGate(url, f"test-nudge-gate:{uuid.uuid4().hex}", interval_s)


@pytest.fixture(params=["local", "redis"])
def make_gate(request: pytest.FixtureRequest) -> Callable[[], Gate]:
    if request.param == "local":
        return LocalGate
    url: str = request.getfixturevalue("celery_broker_url")
    return lambda: redis_gate(url)


@pytest.fixture(params=["local", "redis"])
def make_slow_gate(request: pytest.FixtureRequest) -> Callable[[], Gate]:
    if request.param == "local":
        return lambda: LocalGate(interval_s=1.0)
    url: str = request.getfixturevalue("celery_broker_url")
    return lambda: redis_gate(url, interval_s=1.0)


def test_every_request_is_followed_by_a_send_and_bursts_share_sends(
    sends: Sends, make_gate: Callable[[], Gate]
) -> None:
    nudger = Nudger(make_gate())
    for _ in range(199):
        nudger.request()
    before_last = time.monotonic()
    nudger.request()
    # The last request must get a send that began after it, however the burst went.
    assert sends.wait_for(lambda: bool(sends.at) and sends.at[-1] >= before_last)
    assert len(sends.at) < 200


def test_a_request_after_a_quiet_spell_is_sent_at_once_on_its_own_thread(
    sends: Sends, make_gate: Callable[[], Gate]
) -> None:
    nudger = Nudger(make_gate())
    nudger.request()
    assert sends.threads == [threading.current_thread().name]


def test_processes_sharing_the_redis_gate_send_one_nudge_per_interval(
    sends: Sends, celery_broker_url: str
) -> None:
    """Two nudgers stand for two web processes: the second finds the gate shut by the
    first, so its nudge waits for the gate's interval instead of going out at once."""
    shared = redis_gate(celery_broker_url, interval_s=1.0)
    first = Nudger(shared)
    second = Nudger(RedisGate(celery_broker_url, shared.key, interval_s=1.0))
    first.request()
    assert len(sends.at) == 1
    asked = time.monotonic()
    second.request()
    assert len(sends.at) == 1  # not sent inline: the gate is shut
    assert sends.wait_for(lambda: len(sends.at) == 2)
    assert sends.threads[1] == "relay-nudge"
    assert sends.at[1] - asked >= 0.9


def test_the_redis_gate_is_shared_and_reopens_after_its_interval(celery_broker_url: str) -> None:
    one = redis_gate(celery_broker_url, interval_s=0.5)
    other = RedisGate(celery_broker_url, one.key, interval_s=0.5)
    assert one.try_open() == 0
    assert 0 < other.try_open() <= 0.5  # shut, and says for how long
    assert one.try_open() > 0
    wait_for(lambda: other.try_open() == 0, 10, "the gate to reopen")


def test_an_unreachable_redis_leaves_the_gate_open(sends: Sends) -> None:
    gate = RedisGate("redis://127.0.0.1:1/0", "unused")
    assert gate.try_open() == 0
    Nudger(gate).request()
    assert len(sends.at) == 1


def test_a_shut_out_nudge_waits_for_the_time_the_gate_has_left_not_a_whole_interval(
    sends: Sends, make_slow_gate: Callable[[], Gate]
) -> None:
    nudger = Nudger(make_slow_gate())
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


def test_a_gate_known_shut_is_answered_without_asking_redis(celery_broker_url: str) -> None:
    one = redis_gate(celery_broker_url, interval_s=1.0)
    other = RedisGate(celery_broker_url, one.key, interval_s=1.0)
    assert one.try_open() == 0
    first = other.try_open()
    assert 0 < first <= 1.0
    # With the key gone, only an answer that skipped Redis can still say "shut".
    redis.Redis.from_url(celery_broker_url).delete(one.key)
    second = other.try_open()
    assert 0 < second <= first
    # Once the time it was told has passed, it asks again.
    wait_for(lambda: other.try_open() == 0, 10, "the gate to reopen")


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
        nudge._send_nudge()
    assert broker.llen(celery_queue) == 1  # one message, read from the broker itself
    nudge.relay_run_starting()  # what the relay task does before its first claim
    nudge._send_nudge()
    nudge._send_nudge()
    assert broker.llen(celery_queue) == 2


def test_a_send_that_fails_leaves_no_mark_behind(
    broker: redis.Redis, celery_queue: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commitlog.tasks import relay_outbox_task

    settings.RELAY_NUDGE_QUEUED_TTL_SECONDS = 60.0

    def refused(**options: Any) -> None:
        raise OSError("the broker refused the message")

    monkeypatch.setattr(relay_outbox_task, "apply_async", refused)
    nudge._send_nudge()
    assert not broker.exists(f"relay-nudge-queued:{celery_queue}")
    monkeypatch.undo()
    nudge._send_nudge()
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
