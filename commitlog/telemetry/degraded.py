"""A dependency that stopped answering, said once per outage: one warning when it goes,
one line when it is back, and a shared counter (`controlplane_degraded_total{event}` in
/metrics) that counts outages, never the calls that met one. A web process meets an
outage of Redis on every request; a line per request would bury everything else."""

from __future__ import annotations

import logging
import threading

from commitlog.telemetry.counters import counters_add

logger = logging.getLogger(__name__)

COUNTER = "degraded_total"


class Outage:
    """The state of one dependency in this process, as its callers find it."""

    def __init__(self, event: str, *, during: str) -> None:
        self.event = event
        self.during = during  # what the process does meanwhile, for the warning
        self._lock = threading.Lock()
        self._down = False

    @property
    def down(self) -> bool:
        return self._down

    def failed(self, error: object) -> None:
        with self._lock:
            if self._down:
                return
            self._down = True
        logger.warning("event=%s error=%s meanwhile=%s", self.event, error, self.during)
        try:
            counters_add({(COUNTER, self.event): 1})
        except Exception as exc:  # the counter is a nicety (the database may be away too)
            logger.warning("event=degraded_count_failed error=%s", exc)

    def recovered(self) -> None:
        with self._lock:
            if not self._down:
                return
            self._down = False
        logger.info("event=%s_recovered", self.event)
