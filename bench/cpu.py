"""CPU used over a timed window by the processes a section measures: this process alone
(without the broker it started as a child), a given process, and the PostgreSQL backends
serving the bench's database (found in pg_stat_activity, sampled while the window runs so
that a connection opened and closed inside it counts too)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from types import TracebackType

_TICK = os.sysconf("SC_CLK_TCK")


def own_cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process (all its threads, none of its children); None once gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


@dataclass
class BackendCpu:
    """The CPU of the backends serving `database` over a `with` block, from /proc.

    A backend first seen after the block started was forked inside it and counts from 0;
    one that exits counts up to its last sample (every `interval_s`), so a short-lived
    connection's last fraction of a second may be missed.
    """

    server_url: str
    database: str
    interval_s: float = 0.1
    first: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _pids(self, cursor: object) -> list[int]:
        cursor.execute(  # type: ignore[attr-defined]
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.database],
        )
        return [row[0] for row in cursor.fetchall()]  # type: ignore[attr-defined]

    def _sample(self, cursor: object, *, at_start: bool) -> None:
        for pid in self._pids(cursor):
            used = own_cpu_seconds(pid)
            if used is None:
                continue
            if pid not in self.first:
                self.first[pid] = used if at_start else 0.0
            self.last[pid] = used

    def _watch(self) -> None:
        import psycopg

        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as conn:
            cursor = conn.cursor()
            self._sample(cursor, at_start=True)
            self._started.set()
            while not self._stop.wait(self.interval_s):
                self._sample(cursor, at_start=False)
            self._sample(cursor, at_start=False)

    def __enter__(self) -> BackendCpu:
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="bench-pg-cpu", daemon=True)
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


@dataclass
class WindowCpu:
    """CPU seconds of this process, one other process and the database's backends."""

    server_url: str
    database: str
    other_pid: int | None = None
    own_s: float = 0.0
    other_s: float = 0.0
    postgres_s: float = 0.0

    def __enter__(self) -> WindowCpu:
        self._backends = BackendCpu(self.server_url, self.database).__enter__()
        self._own = own_cpu_seconds(os.getpid()) or 0.0
        self._other = (own_cpu_seconds(self.other_pid) or 0.0) if self.other_pid else 0.0
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.own_s = (own_cpu_seconds(os.getpid()) or 0.0) - self._own
        if self.other_pid:
            self.other_s = (own_cpu_seconds(self.other_pid) or 0.0) - self._other
        self._backends.__exit__(exc_type, exc, tb)
        self.postgres_s = self._backends.seconds
