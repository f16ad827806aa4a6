"""REST load from clients that behave like real ones: distinct strategies (and some
rebalance requests), each attempt with a timeout, and a retry of what got no answer or a
503, with backoff: a strategy with the same body (same DAG), a rebalance request with the
same body and `Idempotency-Key`. Every answer is kept."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from devstack.bodies import chain_dag, strategy_body

BATCH_EVERY = 10  # one rebalance request (two batches) per this many requests
IDLE_REUSE_S = 1.0


@dataclass
class LoadResults:
    strategies: list[str] = field(default_factory=list)  # ids answered 202 (or 409 on retry)
    batches: list[str] = field(default_factory=list)  # batch ids answered 202
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0  # attempts with no answer: timeouts, resets, refusals
    retries: int = 0
    confirmed_by_409: int = 0  # a retried strategy found stored by its earlier attempt
    replays: int = 0  # `Idempotent-Replayed: true` answers to retried rebalances
    gave_up: int = 0  # requests still unanswered after every attempt
    first_409: int = 0  # 409 to a first attempt: every DAG is new, so a bug
    latencies_s: list[float] = field(default_factory=list)  # per request answered 202
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accepted(self) -> int:
        return len(self.strategies) + len(self.batches)

    @property
    def accepted_requests(self) -> int:
        """Requests (not ids: a rebalance request makes two batches) answered 202."""
        return len(self.latencies_s)

    @property
    def unexpected_4xx(self) -> int:
        """4xx answers other than the 409 that confirms a retried strategy: every request
        is valid and new, so any is a bug."""
        return self.first_409 + sum(
            n for code, n in self.statuses.items() if 400 <= code < 500 and code != 409
        )

    @property
    def unexpected_5xx(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500 and code != 503)

    def p95_s(self) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[int(0.95 * (len(ordered) - 1))] if ordered else 0.0


def _strategy_body(tag: str) -> dict[str, Any]:
    dag = chain_dag([f"{tag}-{i}" for i in range(5)], node_type="Node")
    return strategy_body(
        dag, world_ids=["faults"], meta={"execution_domain": "live", "version": "1"}
    )


def batch_body(request: str) -> dict[str, Any]:
    """Orders are stored as given: `request` in each lets the check find, from the rows
    alone, a request that was written more than once."""
    return {
        "per_world": {"faults": [{"symbol": "A", "quantity": 1, "request": request}]},
        "global": [{"symbol": "G", "qty": -1, "reduce_only": True, "request": request}],
    }


class LoadGenerator:
    """`threads` clients sending `rate` requests per second in total, until stopped,
    `total` answers were 202 or `duration_s` passed."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        token: str,
        rate: float,
        total: int | None = None,
        duration_s: float | None = None,
        threads: int = 32,
        timeout_s: float = 5.0,
        give_up_s: float = 120.0,
    ) -> None:
        self.host, self.port, self.token = host, port, token
        self.rate = rate
        self.interval = threads / rate
        self.total = total
        self.duration_s = duration_s
        self.timeout_s = timeout_s
        self.give_up_s = give_up_s
        self.results = LoadResults()
        self.stop = threading.Event()
        self._started = time.monotonic()
        self._connection: dict[int, http.client.HTTPConnection] = {}  # one per thread
        self._last_used: dict[int, float] = {}
        self._threads = [threading.Thread(target=self._client, args=(i,)) for i in range(threads)]

    def start(self) -> None:
        self._started = time.monotonic()
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _more(self) -> bool:
        if self.stop.is_set():
            return False
        if self.total is not None and self.results.accepted >= self.total:
            return False
        return self.duration_s is None or time.monotonic() - self._started < self.duration_s

    def _client(self, index: int) -> None:
        sent = 0
        next_at = time.monotonic()
        while self._more():
            sent += 1
            if sent % BATCH_EVERY == 0:
                self._request(index, "/rebalancing/batches", batch_body(uuid.uuid4().hex))
            else:
                self._request(index, "/strategies", _strategy_body(f"{index}-{uuid.uuid4().hex}"))
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
            else:
                next_at = time.monotonic()  # behind: do not burst to catch up
        self._close(index)

    def _close(self, index: int) -> None:
        connection = self._connection.pop(index, None)
        if connection is not None:
            connection.close()

    def _post(self, index: int, path: str, body: bytes, headers: dict[str, str]) -> Any:
        # As a client's pool would, do not send on a connection idle long enough for the
        # server to have closed it (gunicorn keeps idle ones 2 s): that failure is ours.
        if time.monotonic() - self._last_used.get(index, 0.0) > IDLE_REUSE_S:
            self._close(index)
        if index not in self._connection:
            self._connection[index] = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout_s
            )
        connection = self._connection[index]
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            payload = response.read()
            self._last_used[index] = time.monotonic()
            return response, payload
        except (OSError, http.client.HTTPException):
            self._close(index)
            raise

    def _request(self, index: int, path: str, body: dict[str, Any]) -> None:
        """One request, retried until it has an answer other than a 503 or gives up."""
        is_batch = path.startswith("/rebalancing")
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if is_batch:
            headers["Idempotency-Key"] = body["global"][0]["request"]
        encoded = json.dumps(body).encode()
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            retry_after = 0.0
            try:
                response, payload = self._post(index, path, encoded, headers)
            except (OSError, http.client.HTTPException):
                with self.results.lock:
                    self.results.transport_errors += 1
            else:
                if response.status != 503:
                    self._record(response, payload, is_batch, attempt, started)
                    return
                with self.results.lock:
                    self.results.statuses[503] += 1
                retry_after = float(response.getheader("Retry-After") or 0)
            # Not cut short by `stop`: a request under way is seen through, as a client would.
            if time.monotonic() - started > self.give_up_s:
                with self.results.lock:
                    self.results.gave_up += 1
                return
            with self.results.lock:
                self.results.retries += 1
            backoff = min(2.0, 0.05 * 2**attempt)
            time.sleep(random.uniform(0.5, 1.0) * max(backoff, retry_after))  # noqa: S311

    def _record(
        self, response: Any, payload: bytes, is_batch: bool, attempt: int, started: float
    ) -> None:
        status = response.status
        with self.results.lock:
            self.results.statuses[status] += 1
            if status == 409 and not is_batch:
                if attempt == 1:
                    self.results.first_409 += 1
                    return
                # The earlier attempt was stored and its answer lost: accepted all the same.
                self.results.confirmed_by_409 += 1
                self.results.strategies.append(json.loads(payload)["strategy_id"])
                return
            if status != 202:
                return
            self.results.latencies_s.append(time.monotonic() - started)
            answer = json.loads(payload)
            if is_batch:
                if response.getheader("Idempotent-Replayed") == "true":
                    self.results.replays += 1
                self.results.batches.extend(b["batch_id"] for b in answer["batches"])
            else:
                self.results.strategies.append(answer["strategy_id"])
