"""Wake the relay right after a write commits; beat covers any nudge that gets lost.

The promise kept: every commit is followed by a relay run that starts after it, woken
by a nudge sent after the commit or by one still queued.

With a Redis broker (the default) a nudge is sent only when none is queued. A key in
that Redis (`SET NX PX`) marks a nudge from its send until the relay run it starts
clears the key, before its first claim. A commit that finds the key set needs no nudge
of its own: that run starts after the commit, so its claims see the commit's rows. One
that sets the key sends at once, on its own thread. So under load one nudge waits in
the queue and one goes out per relay run, for the price of one Redis round trip per
commit; the key's time to live bounds what a nudge lost after being marked costs.

With another broker there is nothing shared to read, and a nudge (a Celery message,
about 1 ms of CPU) goes through a gate in each process that opens at most once per
`NUDGE_MIN_INTERVAL_S`. A commit that finds it open sends at once. One that finds it
shut leaves a nudge due to a background thread, which sends when the gate opens;
commits made while a nudge is due need nothing more.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import Protocol

import redis
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

NUDGE_MIN_INTERVAL_S = 0.01
# A nudge shut out this many times (other threads keep opening the gate) is sent regardless.
MAX_GATE_TRIES = 5
# Brokers whose Redis also holds the queued-nudge mark.
_REDIS_SCHEMES = ("redis://", "rediss://")


def _send_nudge(mark: QueuedNudgeMark | None = None) -> None:
    """Send one nudge; `mark`, set by the caller for it, is cleared if the send fails."""
    from commitlog.tasks import relay_outbox_task  # Celery stays out of the request import path

    try:
        relay_outbox_task.apply_async(expires=settings.RELAY_NUDGE_EXPIRES_SECONDS, retry=False)
    except Exception as exc:  # a Celery broker outage must never fail a REST call
        logger.warning("event=relay_nudge_failed error=%s", exc)
        if mark is not None:
            mark.clear()  # nothing is queued: the next commit must send


def relay_run_starting() -> None:
    """Called by the relay task before it claims: nudges sent from now on are needed."""
    mark = _queued_mark()
    if mark is not None:
        mark.clear()


class QueuedNudgeMark:
    """A Redis key that is set while a nudge waits for the relay run it starts."""

    def __init__(self, url: str, key: str, ttl_s: float) -> None:
        self.url = url
        self.key = key
        self._ttl_ms = max(1, round(ttl_s * 1000))
        self._client: redis.Redis | None = None
        self._pid = 0

    def _redis(self) -> redis.Redis:
        if self._client is None or self._pid != os.getpid():
            # A forked child must not share its parent's socket.
            self._client = redis.Redis.from_url(
                self.url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
            self._pid = os.getpid()
        return self._client

    def try_set(self) -> bool:
        """True when no nudge was queued (the caller sends one); False when one is."""
        try:
            return bool(self._redis().set(self.key, b"1", nx=True, px=self._ttl_ms))
        except redis.RedisError as exc:
            logger.warning("event=relay_nudge_mark_failed error=%s", exc)
            return True  # fail open: a nudge too many costs a relay run

    def clear(self) -> None:
        try:
            self._redis().delete(self.key)
        except redis.RedisError as exc:
            # The key expires on its own; until then commits leave the nudge to beat.
            logger.warning("event=relay_nudge_mark_failed error=%s", exc)


_marks: dict[tuple[str, str], QueuedNudgeMark] = {}


def _queued_mark() -> QueuedNudgeMark | None:
    """The mark of the queue the nudges go to, with a Redis broker; None otherwise."""
    from commitlog.tasks import relay_outbox_task

    conf = relay_outbox_task.app.conf
    url: str = conf.broker_url or ""
    if not url.startswith(_REDIS_SCHEMES):
        return None
    queue: str = conf.task_default_queue
    mark = _marks.get((url, queue))
    if mark is None:
        mark = QueuedNudgeMark(
            url, f"relay-nudge-queued:{queue}", settings.RELAY_NUDGE_QUEUED_TTL_SECONDS
        )
        _marks[(url, queue)] = mark
    return mark


class Gate(Protocol):
    interval_s: float

    def try_open(self) -> float:
        """0 when this caller may send a nudge now (the gate shuts behind it); otherwise
        the seconds until the gate opens again."""


class LocalGate:
    """Opens at most once per interval in this process."""

    def __init__(self, interval_s: float = NUDGE_MIN_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._opened = float("-inf")
        self._lock = threading.Lock()

    def try_open(self) -> float:
        with self._lock:
            now = time.monotonic()
            if now - self._opened < self.interval_s:
                return self._opened + self.interval_s - now
            self._opened = now
            return 0.0


class Nudger:
    def __init__(self, gate: Gate) -> None:
        self._gate = gate
        self._lock = threading.Lock()
        self._pid = 0
        self._due = threading.Event()
        self._in_hand = False  # the thread is waiting on the gate for a nudge owed

    def request(self) -> None:
        if self._pid == os.getpid() and self._due.is_set():
            return  # the nudge already due is sent after this commit
        if not self._gate.try_open():
            # No hand-off to another thread to wait for.
            _send_nudge()
            return
        if self._pid != os.getpid():
            self._start()
        self._due.set()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            # A forked child has the flag but not the thread: start afresh.
            self._due = threading.Event()
            thread = threading.Thread(
                target=self._run, args=(self._due,), name="relay-nudge", daemon=True
            )
            thread.start()
            if not self._pid:
                atexit.register(self._flush)
            self._pid = os.getpid()

    def _run(self, due: threading.Event) -> None:
        while True:
            due.wait()
            # Every commit that counts on this nudge happened before the flag is cleared;
            # one after it asks again.
            due.clear()
            self._in_hand = True
            if self._own_nudge_needed(since=time.monotonic()):
                _send_nudge()
            self._in_hand = False

    def _own_nudge_needed(self, since: float) -> bool:
        """Wait for the gate. False when another caller opened it after `since`: the nudge
        it sends right after opening follows every commit made before `since`."""
        for _ in range(MAX_GATE_TRIES):
            asked = time.monotonic()
            wait = self._gate.try_open()
            if not wait:
                return True
            # Opened (interval - wait) before it was asked; 1 ms for rounding.
            if asked - (self._gate.interval_s - wait) - 0.001 > since:
                return False
            time.sleep(wait + 0.001)  # until the gate opens: a rate limit, not a sync
        return True  # kept shut out too long: send regardless

    def _flush(self) -> None:
        # A short-lived process may exit with a commit whose nudge is still owed.
        if self._pid == os.getpid() and (self._due.is_set() or self._in_hand):
            self._due.clear()
            _send_nudge()


_nudger: Nudger | None = None
_nudger_lock = threading.Lock()


def _process_nudger() -> Nudger:
    global _nudger
    if _nudger is None:
        with _nudger_lock:
            if _nudger is None:
                _nudger = Nudger(LocalGate())
    return _nudger


def _nudge_after_commit() -> None:
    mark = _queued_mark()
    if mark is None:
        _process_nudger().request()
    elif mark.try_set():
        _send_nudge(mark)
    # Otherwise the nudge already queued starts a relay run after this commit.


def nudge_relay_on_commit() -> None:
    if settings.RELAY_NUDGE_ENABLED and settings.GATEWAY.writer_enabled:
        transaction.on_commit(_nudge_after_commit, robust=True)
