"""Wake the relay right after a write commits; beat covers any nudge that gets lost.

A nudge is a Celery message, and sending one costs about 1 ms of the request's CPU.
Each process sends them from one thread, at most one per `NUDGE_MIN_INTERVAL_S`: a
commit only raises a flag, and the thread sends a nudge after every raise, so no commit
goes without a nudge sent after it, at most one interval later. At 50 submissions/s
per process nudges go out at once; under load, commits share them.
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
    """The per-process sending thread, started on first use (and again after a fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._wanted = threading.Event()

    def request(self) -> None:
        if self._pid != os.getpid():
            self._start()
        self._wanted.set()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            # A forked child has the flag but not the thread: start afresh.
            self._wanted = threading.Event()
            threading.Thread(
                target=self._run, args=(self._wanted,), name="relay-nudge", daemon=True
            ).start()
            if not self._pid:
                atexit.register(self._flush)
            self._pid = os.getpid()

    def _run(self, wanted: threading.Event) -> None:
        while True:
            wanted.wait()
            wanted.clear()  # before sending: a commit from now on gets the next nudge
            _send_nudge()
            time.sleep(NUDGE_MIN_INTERVAL_S)

    def _flush(self) -> None:
        # A short-lived process may exit with a commit whose nudge is still waiting.
        if self._pid == os.getpid() and self._wanted.is_set():
            self._wanted.clear()
            _send_nudge()


_nudger = _Nudger()


def nudge_relay_on_commit() -> None:
    if settings.RELAY_NUDGE_ENABLED and settings.GATEWAY.writer_enabled:
        transaction.on_commit(_nudger.request, robust=True)
