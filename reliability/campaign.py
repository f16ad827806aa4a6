"""The faults of a campaign and how each is injected into a running `FaultStack`.

Network faults are switched on a link of the fault proxy and lifted by a timer after a
random duration, so they overlap each other and the process faults that follow; process
faults (kills and restarts) are done in place, one at a time."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

from reliability.proxy_process import RemoteLink
from reliability.stack import FaultStack

NETWORK = ("latency", "bandwidth", "reset", "blackhole", "several_links")
PROCESS = ("kill_worker", "kill_consumer", "restart_broker", "restart_postgres", "kill_redis")
FAULTS = NETWORK + PROCESS
_LINK_FAULTS = ("latency", "bandwidth", "reset", "blackhole")


class Injector:
    """Draws faults from a shuffled deck of every kind, so each kind comes once in every
    `len(FAULTS)` faults; `durations_s` bounds how long a network fault lasts."""

    def __init__(
        self, stack: FaultStack, rng: random.Random, durations_s: tuple[float, float]
    ) -> None:
        self.stack = stack
        self.rng = rng
        self.durations_s = durations_s
        self.counts: Counter[str] = Counter()
        self.last_fault_end = time.monotonic()
        self._deck: list[str] = []
        self._timers: list[threading.Timer] = []
        self._generation: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def next_kind(self) -> str:
        if not self._deck:
            self._deck = list(FAULTS)
            self.rng.shuffle(self._deck)
        return self._deck.pop()

    def inject(self, kind: str) -> str:
        """Inject one fault of `kind`; returns what was done, for the log."""
        self.counts[kind] += 1
        rng = self.rng
        if kind in _LINK_FAULTS:
            return self._on_link(rng.choice(list(self.stack.links.values())), kind)
        if kind == "several_links":
            links = rng.sample(list(self.stack.links.values()), rng.randint(2, 4))
            return "; ".join(self._on_link(link, rng.choice(_LINK_FAULTS)) for link in links)
        stack = self.stack
        done = kind
        if kind in ("kill_worker", "kill_consumer"):
            stack.kill_and_restart(kind.removeprefix("kill_"))
        elif kind == "restart_broker":
            stack.restart_broker(down_s=rng.uniform(0.2, 2.0))
        elif kind == "kill_redis":
            stack.kill_redis(down_s=rng.uniform(0.2, 2.0))
        else:
            mode = rng.choice(["fast", "immediate"])
            stack.restart_postgres(down_s=rng.uniform(0.2, 1.5), mode=mode)
            done = f"{kind} ({mode})"
        # Every process fault ends here: the drain after the last fault counts from it.
        with self._lock:
            self.last_fault_end = time.monotonic()
        return done

    def _on_link(self, link: RemoteLink, kind: str) -> str:
        rng = self.rng
        duration = rng.uniform(*self.durations_s)
        if kind == "latency":
            low = rng.uniform(0.05, 0.25)
            high = rng.uniform(low, 0.5)
            link.set_latency(low, high)
            detail = f"{low * 1000:.0f}-{high * 1000:.0f} ms"
        elif kind == "bandwidth":
            rate = rng.choice([4_000, 16_000, 64_000, 256_000])
            link.set_bandwidth(rate)
            detail = f"{rate // 1000} kB/s"
        elif kind == "reset":
            within = rng.choice([256, 4096, 65536])
            link.reset_connections(within_bytes=within)
            detail = f"each connection within {within} bytes"
        else:
            link.set_blackhole(True)
            detail = "bytes in, nothing out"
        with self._lock:
            self._generation[(link.name, kind)] += 1
            generation = self._generation[(link.name, kind)]
        timer = threading.Timer(duration, self._lift, args=(link, kind, generation))
        timer.daemon = True
        timer.start()
        self._timers.append(timer)
        return f"{kind} on {link.name} for {duration:.1f} s ({detail})"

    def _lift(self, link: RemoteLink, kind: str, generation: int) -> None:
        with self._lock:
            if self._generation[(link.name, kind)] == generation:  # not renewed since
                link.lift(kind)
            self.last_fault_end = time.monotonic()

    def finish(self) -> None:
        """Lift every fault still on; the drain is timed from here."""
        for timer in self._timers:
            timer.cancel()
        with self._lock:
            self.stack.proxy.clear_all()
            self.last_fault_end = time.monotonic()
