"""Wake the relay right after a write commits; beat covers any nudge that gets lost.

The promise kept: every commit is followed by a relay run that starts after it, woken
by a nudge sent after the commit or by one still queued.

With a Redis broker (every shipped configuration) a nudge is sent only when none is
queued. A key in that Redis (`SET NX PX`) marks a nudge from its send until the relay
run it starts clears the key, before its first claim. A commit that finds the key set
needs no nudge of its own: that run starts after the commit, so its claims see the
commit's rows. So under load one nudge waits in the queue and one goes out per relay
run, for the price of one Redis round trip per commit; the key's time to live bounds
what a nudge lost after being marked costs. With another broker every commit sends.

No request waits for any of it: the commit asks the process's sender thread
(commitlog.outbox.nudge_sender), which does the mark's round trip and the send. A broker
that is away is logged once per outage (`event=relay_nudge_broker_unavailable`, then
`..._recovered`), not once per commit.
"""

from __future__ import annotations

import os

import redis
from celery import current_app
from django.db import transaction

from commitlog.conf import commitlog_settings
from commitlog.outbox.nudge_sender import NudgeSender
from commitlog.telemetry.degraded import Outage

RELAY_TASK = "commitlog.relay_outbox"
# Brokers whose Redis also holds the queued-nudge mark.
_REDIS_SCHEMES = ("redis://", "rediss://")
# The Celery broker and the mark's Redis (the same server), as this process finds them.
broker_outage = Outage("relay_nudge_broker_unavailable", during="beat_relays_the_outbox")


def _send_nudge(mark: QueuedNudgeMark | None = None) -> None:
    """Send one nudge; `mark`, set by the caller for it, is cleared if the send fails."""
    try:
        # By name: the task module imports the relay, which writes through this module.
        current_app.send_task(
            RELAY_TASK, expires=commitlog_settings().relay_nudge_expires_seconds, retry=False
        )
    except Exception as exc:  # a Celery broker outage must never fail a REST call
        broker_outage.failed(exc)
        if mark is not None:
            mark.clear()  # nothing is queued: the next commit must send
    else:
        broker_outage.recovered()


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
            broker_outage.failed(exc)
            return True  # fail open: a nudge too many costs a relay run

    def clear(self) -> None:
        try:
            self._redis().delete(self.key)
        except redis.RedisError as exc:
            # The key expires on its own; until then commits leave the nudge to beat.
            broker_outage.failed(exc)


_marks: dict[tuple[str, str], QueuedNudgeMark] = {}


def _queued_mark() -> QueuedNudgeMark | None:
    """The mark of the queue the nudges go to, with a Redis broker; None otherwise."""
    conf = current_app.conf
    url: str = conf.broker_url or ""
    if not url.startswith(_REDIS_SCHEMES):
        return None
    queue: str = conf.task_default_queue
    mark = _marks.get((url, queue))
    if mark is None:
        mark = QueuedNudgeMark(
            url, f"relay-nudge-queued:{queue}", commitlog_settings().relay_nudge_queued_ttl_seconds
        )
        _marks[(url, queue)] = mark
    return mark


def _nudge_after_commit() -> None:
    mark = _queued_mark()
    if mark is None:
        _send_nudge()
    elif mark.try_set():
        _send_nudge(mark)
    # Otherwise the nudge already queued starts a relay run after this commit.


sender = NudgeSender(_nudge_after_commit)


def nudge_relay_on_commit() -> None:
    conf = commitlog_settings()
    if conf.relay_nudge_enabled and conf.writer_enabled:
        transaction.on_commit(sender.request, robust=True)
