"""Bursts and backlogs: N pending outbox rows (what an hour of broker outage leaves behind
at 300 submissions/s), then the relay back. How long the drain takes, its rows/s against
the relay's steady rate in the same run, and `POST /strategies` latency while it drains
against the same requests on the idle system just before.

Side by side in one run:
- idle: gunicorn answers requests at a steady rate; the backlog waits (no relay runs);
- drain: a Celery worker (the relay, woken by the requests' nudges as in production)
  starts and drains the backlog while the same requests go on; the pending count is
  sampled every second until it reaches 0;
- the relay's steady rate: `relay_outbox` in this process draining a further sample of
  the same rows with no requests and no worker (the relay section's measurement).

    .venv/bin/python -m bench.burst [--rows 1000000] [--rate 20] [--idle-seconds 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.harness import (
    fmt_rate,
    percentile,
    progress,
    rate,
    run_header,
    table,
    write_section,
)
from bench.stack import BenchStack
from devstack.net import free_port

SECTION = "burst"
CHUNK = 20_000  # rows built and copied at a time, so a million never sit in memory at once
REFERENCE_ROWS = 20_000
DRAIN_TIMEOUT_S = 3 * 3600.0
WARM_UP_S = 3.0  # fresh gunicorn workers' first requests, left out of the idle figure


@dataclass(frozen=True)
class Stream:
    latencies_ms: list[float]
    refused: int

    def p(self, pct: float) -> float:
        return percentile(self.latencies_ms, pct)


def _fill(rows: int, salt: str, *, reset: bool) -> None:
    from bench.workload import copy_rows, prepare_many, reset_tables, vacuum_analyze

    if reset:
        reset_tables()
    for start in range(0, rows, CHUNK):
        copy_rows(prepare_many(min(CHUNK, rows - start), salt, first=start))
        if start and start % (10 * CHUNK) == 0:
            progress(f"{start:,} pending rows written")
    vacuum_analyze()


def _pending() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM commitlog_outboxevent WHERE state = 'pending'")
        return int(cursor.fetchone()[0])


class _Requests:
    """The paced request stream in its own process, from start() to finish()."""

    def __init__(self, port: int, token: str, first: int, per_second: float) -> None:
        from bench.burst_load import paced

        context = multiprocessing.get_context("spawn")
        self._results, sender = context.Pipe(duplex=False)
        self._stop_reader, self._stop = context.Pipe(duplex=False)
        self._process = context.Process(
            target=paced, args=(port, token, first, per_second, sender, self._stop_reader)
        )
        self._process.start()
        sender.close()
        self._results.recv()

    def finish_after(self, seconds: float) -> Stream:
        time.sleep(seconds)
        return self.finish()

    def finish(self) -> Stream:
        self._stop.send("stop")
        latencies, refused = self._results.recv()
        self._process.join()
        return Stream(latencies, refused)


def _worker(stack: BenchStack) -> Any:
    worker = stack.spawn(
        "worker",
        [
            *(sys.executable, "-m", "celery", "-A", "controlplane", "worker"),
            *("--pool", "prefork", "--concurrency", "1", "--queues", stack.celery_queue),
            *("--without-gossip", "--without-mingle", "--loglevel", "INFO"),
        ],
    )
    worker.wait_for_line("ready.", 60)
    return worker


def _drain(rows: int) -> tuple[float, list[tuple[float, int]]]:
    """Seconds until nothing is pending, and the (seconds, pending) samples on the way."""
    started = time.perf_counter()
    samples = [(0.0, rows)]
    while True:
        time.sleep(1.0)
        left = _pending()
        at = time.perf_counter() - started
        samples.append((at, left))
        if len(samples) % 30 == 0:
            progress(f"drain: {left:,} pending after {at:.0f} s")
        if left == 0 or at > DRAIN_TIMEOUT_S:
            return at, samples


def _reference(rows: int) -> float:
    """The relay alone: rows/s of `relay_outbox` in this process over `rows` new rows."""
    from commitlog.relay.policy import RelayPolicy
    from commitlog.relay.run import relay_outbox
    from commitlog.relay.writer import ProcessWriter

    _fill(rows, "burst-reference", reset=False)
    writers = ProcessWriter()
    writers.get().publish([])
    started = time.perf_counter()
    run = relay_outbox(writers=writers, policy=RelayPolicy.from_settings(run_budget_s=600.0))
    elapsed = time.perf_counter() - started
    writers.close()
    if run.failed or _pending():
        raise RuntimeError(f"reference run incomplete: {run}")
    return rate(run.published, elapsed)


def _half_rates(samples: list[tuple[float, int]]) -> tuple[float, float]:
    """Rows/s over the first and the second half of the backlog."""
    total = samples[0][1]
    middle = next((s for s in samples if s[1] <= total / 2), samples[-1])
    end = samples[-1]
    first = rate(total - middle[1], middle[0])
    second = rate(middle[1] - end[1], end[0] - middle[0])
    return first, second


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    command = ".venv/bin/python -m bench.burst"
    if args.rows != 1_000_000:
        command += f" --rows {args.rows}"

    with BenchStack("burst") as stack:
        from controlplane.services.credentials import credential_issue

        progress(f"writing {args.rows:,} pending outbox rows")
        _fill(args.rows, "burst-backlog", reset=True)
        token = credential_issue(name="burst bench").token
        port = free_port()
        server = stack.spawn(
            "gunicorn",
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2"),
                *("--bind", f"127.0.0.1:{port}"),
            ],
        )
        server.wait_for_line("Booting worker", 60)
        time.sleep(2)
        _Requests(port, token, 2_000_000_000, args.rate).finish_after(WARM_UP_S)
        progress(f"idle: {args.rate:g} requests/s for {args.idle_seconds:g} s, no relay")
        idle = _Requests(port, token, 0, args.rate).finish_after(args.idle_seconds)
        backlog = _pending()
        progress(f"idle: p50 {idle.p(50):.1f} ms, p99 {idle.p(99):.1f} ms; {backlog:,} pending")
        requests = _Requests(port, token, 1_000_000_000, args.rate)
        worker = _worker(stack)
        progress("drain: the relay is back")
        drain_s, samples = _drain(backlog)
        draining = requests.finish()
        stack.retire(worker)
        progress(f"drain: {drain_s:.1f} s; p50 {draining.p(50):.1f}, p99 {draining.p(99):.1f} ms")
        reference_rows = min(args.rows, REFERENCE_ROWS)
        steady = _reference(reference_rows)
        progress(f"the relay alone: {fmt_rate(steady)} rows/s over {reference_rows:,} rows")
        machine = stack.machine()

    # The requests' own rows drained too: count what was pending plus what they added.
    drained = backlog + len(draining.latencies_ms)
    drain_rate = rate(drained, drain_s)
    first_half, second_half = _half_rates(samples)
    rows = [
        ["drain, all of it", f"{drained:,}", f"{drain_s:,.1f}", fmt_rate(drain_rate)],
        ["drain, first half of the backlog", "-", "-", fmt_rate(first_half)],
        ["drain, second half", "-", "-", fmt_rate(second_half)],
        ["the relay alone (bound)", f"{reference_rows:,}", "-", fmt_rate(steady)],
        ["drain / relay alone", "-", "-", f"{drain_rate / steady:.2f}"],
    ]
    latency = [
        [
            name,
            f"{len(s.latencies_ms):,}",
            f"{s.p(50):.1f}",
            f"{s.p(99):.1f}",
            f"{max(s.latencies_ms):.0f}",
            str(s.refused),
        ]
        for name, s in (("idle", idle), ("while draining", draining))
    ]
    ratio = [
        "while draining / idle",
        "-",
        f"{draining.p(50) / idle.p(50):.2f}",
        f"{draining.p(99) / idle.p(99):.2f}",
        "-",
        "-",
    ]
    for line in [*rows, *latency, ratio]:
        progress(" | ".join(line))
    if args.no_write:
        return
    body = run_header("Bursts and backlogs", command, machine)
    body += (
        f"\n{args.rows:,} pending outbox rows (real `gateway.ingest` records of 20-node DAGs, "
        "written with COPY; at 300 submissions/s a million is an hour of broker outage), "
        "then the relay back: a Celery worker (`--concurrency 1`, woken by the requests' "
        "nudges, no beat) drains them while `POST /strategies` goes on at "
        f"{args.rate:g}/s (one request at a time, each on a fresh connection, "
        "`gunicorn --workers 2`). The pending count is read every second until it is 0; "
        "the drain's rows include those the requests added. Beside it, in the same run: "
        f"the same requests for {args.idle_seconds:g} s on the idle system just before (the "
        "backlog waiting, no relay), and the relay alone (`relay_outbox` in the benchmark "
        f"process, no requests, no worker) over {reference_rows:,} more pending rows. No "
        "consumer runs: reading the records back is the consumer section's work.\n\n"
    )
    body += table(["what", "rows", "seconds", "rows/s"], rows)
    body += "\n\n"
    body += table(
        ["POST /strategies", "requests", "p50 ms", "p99 ms", "max ms", "non-202"], [*latency, ratio]
    )
    body += "\n"
    write_section(SECTION, body)


if __name__ == "__main__":
    main()
