"""The API section's in-process figure: `POST /strategies` through Django's test client
in this process (every middleware, DRF, the service; no gunicorn, no HTTP), against the
bare insert of the same two rows, also in this process, one after the other."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from bench.harness import rate


@dataclass(frozen=True)
class InProcess:
    accepted: int
    seconds: float
    cpu_s: float  # this process's CPU over the requests
    bare: int
    bare_seconds: float

    @property
    def api_rate(self) -> float:
        return rate(self.accepted, self.seconds)

    @property
    def bare_rate(self) -> float:
        return rate(self.bare, self.bare_seconds)

    @property
    def cpu_ms_per_accepted(self) -> float:
        return self.cpu_s * 1000 / self.accepted if self.accepted else 0.0


def run_in_process(token: str, first: int, seconds: float, budget: int) -> InProcess:
    """Requests for `seconds`, then the bare insert for as long; bodies and rows are built
    before either is timed."""
    from django.db import transaction
    from django.test import Client

    from bench.workload import insert_rows, prepare_many, request_body

    client = Client(HTTP_HOST="localhost")
    bodies = [json.dumps(request_body(first + n, "inproc")) for n in range(budget)]
    rows = prepare_many(budget, "inproc-bare", first=first)
    authorization = f"Bearer {token}"
    accepted = 0
    cpu_before = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    for body in bodies:
        response = client.post(
            "/strategies", body, content_type="application/json", HTTP_AUTHORIZATION=authorization
        )
        if response.status_code != 202:
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
        accepted += 1
        if time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_before
    bare = 0
    bare_started = time.perf_counter()
    for row in rows:
        with transaction.atomic():
            insert_rows(row)
        bare += 1
        if time.perf_counter() - bare_started > seconds:
            break
    return InProcess(accepted, elapsed, cpu_s, bare, time.perf_counter() - bare_started)
