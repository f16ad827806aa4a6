"""Steady REST load: distinct strategies (and some rebalance batches), every answer kept."""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from devstack.bodies import chain_dag, strategy_body


@dataclass
class LoadResults:
    strategies: list[str] = field(default_factory=list)  # ids answered 202
    batches: list[str] = field(default_factory=list)  # batch ids answered 202
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accepted(self) -> int:
        return len(self.strategies) + len(self.batches)

    @property
    def unexpected_5xx(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500 and code != 503)


def _strategy_body(tag: str) -> dict[str, Any]:
    dag = chain_dag([f"{tag}-{i}" for i in range(5)], node_type="Node")
    return strategy_body(
        dag, world_ids=["faults"], meta={"execution_domain": "live", "version": "1"}
    )


_BATCH_BODY = {
    "per_world": {"faults": [{"symbol": "A", "quantity": 1}]},
    "global": [{"symbol": "G", "qty": -1, "reduce_only": True}],
}


class LoadGenerator:
    """`threads` clients sending `rate` requests per second in total, until stopped or
    `total` answers were 202."""

    def __init__(
        self, *, host: str, port: int, token: str, rate: float, total: int, threads: int = 4
    ) -> None:
        self.host, self.port, self.token = host, port, token
        self.interval = threads / rate
        self.total = total
        self.results = LoadResults()
        self.stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, args=(i,)) for i in range(threads)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _client(self, index: int) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=15)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        sent = 0
        next_at = time.monotonic()
        while not self.stop.is_set() and self.results.accepted < self.total:
            sent += 1
            is_batch = sent % 10 == 0
            path = "/rebalancing/batches" if is_batch else "/strategies"
            body = _BATCH_BODY if is_batch else _strategy_body(f"{index}-{uuid.uuid4().hex}")
            try:
                connection.request("POST", path, json.dumps(body), headers)
                response = connection.getresponse()
                payload = response.read()
                self._record(response.status, payload, is_batch)
            except (OSError, http.client.HTTPException):
                with self.results.lock:
                    self.results.transport_errors += 1
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=15)
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
            else:
                next_at = time.monotonic()  # behind: do not burst to catch up
        connection.close()

    def _record(self, status: int, payload: bytes, is_batch: bool) -> None:
        with self.results.lock:
            self.results.statuses[status] += 1
            if status != 202:
                return
            answer = json.loads(payload)
            if is_batch:
                self.results.batches.extend(b["batch_id"] for b in answer["batches"])
            else:
                self.results.strategies.append(answer["strategy_id"])
