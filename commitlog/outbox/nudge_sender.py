"""The thread that sends a process's relay nudges, so that no request waits on the Celery
broker: a commit only raises a flag and returns. A broker that refuses costs the thread a
failed connect; one that went silent holds it for the broker timeouts (2 s,
config.settings), while commits keep raising the flag.

The flag is a queue of one: the nudges asked for while one is being sent are sent as one,
next. That keeps the nudge's promise (a relay run starts after each commit): a flag raised
after a commit is sent after it, and a send always starts after the flag it answers. A
send that fails is not retried; beat's periodic relay covers those commits.

A process that exits right after its last commit (a command, a worker retiring) waits for
the thread's send, up to FLUSH_AT_EXIT_S, so that commit's nudge is not lost with it."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from django.db import connections

logger = logging.getLogger(__name__)

FLUSH_AT_EXIT_S = 2.5  # a little over the broker's connect and send timeouts


class NudgeSender:
    def __init__(self, send: Callable[[], None]) -> None:
        self._send = send
        self._wanted = threading.Event()
        self.sending = threading.Event()  # set while a send is under way
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def request(self) -> None:
        """Ask for a nudge; never blocks."""
        self._ensure_thread()
        self._wanted.set()

    def _ensure_thread(self) -> None:
        # A forked worker (gunicorn) inherits the object but not the thread.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._wanted = threading.Event()
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="relay-nudge-sender", daemon=True
                )
                self._thread.start()
                atexit.register(self.flush, FLUSH_AT_EXIT_S)

    def flush(self, timeout_s: float) -> bool:
        """Wait until no nudge is asked for or being sent, up to `timeout_s`; whether so."""
        deadline = time.monotonic() + timeout_s
        # `sending` is raised before `_wanted` is lowered, so one of them is always up
        # until the send is over.
        while self._wanted.is_set() or self.sending.is_set():
            if self._pid != os.getpid() or time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def _run(self) -> None:
        wanted = self._wanted
        while True:
            wanted.wait()
            self.sending.set()
            wanted.clear()
            try:
                self._send()
            except Exception:  # the thread must outlive any one send
                logger.exception("event=relay_nudge_failed")
            finally:
                self.sending.clear()
                # An outage counter may have used this thread's own database connection.
                connections.close_all()
