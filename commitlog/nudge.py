"""Wake the relay right after a write commits; beat covers any nudge that gets lost.

A nudge is a Celery message, and sending one costs about 0.7 ms of CPU. A process
sends at most one per `NUDGE_MIN_INTERVAL_S`: a commit after a quiet spell sends its
nudge at once, on its own thread; a commit within the interval of the last nudge
leaves the next one to a background thread, which sends it when the interval is over.
Every commit is followed by a nudge sent after it, at most one interval later.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

NUDGE_MIN_INTERVAL_S = 0.02


def _send_nudge() -> None:
    from commitlog.tasks import relay_outbox_task  # Celery stays out of the request import path

    try:
        relay_outbox_task.apply_async(expires=settings.RELAY_NUDGE_EXPIRES_SECONDS, retry=False)
    except Exception as exc:  # a Celery broker outage must never fail a REST call
        logger.warning("event=relay_nudge_failed error=%s", exc)


class _Nudger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._wanted = threading.Event()
        self._last_sent = float("-inf")

    def request(self) -> None:
        now = time.monotonic()
        if now - self._last_sent >= NUDGE_MIN_INTERVAL_S:
            # Quiet: send here, with no hand-off to another thread to wait for.
            self._last_sent = now
            _send_nudge()
            return
        if self._pid != os.getpid():
            self._start()
        self._wanted.set()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            # A forked child has the flag but not the thread: start afresh.
            self._wanted = threading.Event()
            thread = threading.Thread(
                target=self._run, args=(self._wanted,), name="relay-nudge", daemon=True
            )
            thread.start()
            if not self._pid:
                atexit.register(self._flush)
            self._pid = os.getpid()

    def _run(self, wanted: threading.Event) -> None:
        while True:
            wanted.wait()
            pause = self._last_sent + NUDGE_MIN_INTERVAL_S - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # rate limit, not synchronisation
            wanted.clear()  # before sending: a commit from now on gets the next nudge
            self._last_sent = time.monotonic()
            _send_nudge()

    def _flush(self) -> None:
        # A short-lived process may exit with a commit whose nudge is still waiting.
        if self._pid == os.getpid() and self._wanted.is_set():
            self._wanted.clear()
            _send_nudge()


_nudger = _Nudger()


def nudge_relay_on_commit() -> None:
    if settings.RELAY_NUDGE_ENABLED and settings.GATEWAY.writer_enabled:
        transaction.on_commit(_nudger.request, robust=True)
