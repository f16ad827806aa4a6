"""API throughput: accepted POST /strategies per second under gunicorn, against inserting
the same rows directly.

Side by side, alternating, in one run:
- gunicorn (`config.wsgi`, sync workers) with an API token; a load client in its own
  process keeps a fixed number of requests in flight, each a distinct 20-node DAG, and
  counts the 202s;
- the bare insert: the same number of processes insert the StrategySubmission and
  OutboxEvent rows (prepared up front, as the service would write them), one transaction
  per submission, through the ORM;
- in process: the same view through Django's test client in this process (no gunicorn,
  no HTTP), against the bare insert of the same rows in this process (bench/api_in_process).

    .venv/bin/python -m bench.api_throughput [--workers 4] [--seconds 15]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from bench.api_in_process import InProcess, run_in_process
from bench.cpu import BackendCpu
from bench.harness import (
    PG_SERVER_URL,
    cpu_seconds,
    fmt_rate,
    percentile,
    progress,
    rate,
    run_header,
    save_plot,
    table,
    write_section,
)
from bench.load_client import IN_FLIGHT, LoadResult, drive, request
from bench.stack import BenchStack
from devstack.net import free_port

SECTION = "api_throughput"
BARE_PROCESSES = 2
ROUNDS = 2


def _load(port: int, token: str, first: int, count: int, seconds: float, out: Connection) -> None:
    """Runs in a spawned process: build the bodies, say so, then send them as fast as they go."""
    from bench.workload import request_body

    requests = [request(port, token, request_body(first + n, "api")) for n in range(count)]
    out.send("ready")
    out.send(drive(port, requests, seconds))
    out.close()


def _bare(first: int, count: int, seconds: float, start_at: float, out: Connection) -> None:
    """Runs in a spawned process: insert prepared rows, one transaction per submission."""
    import django

    django.setup()
    from django.db import connection, transaction

    from bench.workload import insert_rows, prepare_many

    rows = prepare_many(count, "bare", first=first)
    connection.ensure_connection()
    pause = start_at - time.time()
    if pause > 0:
        time.sleep(pause)
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    for row in rows:
        with transaction.atomic():
            insert_rows(row)
        done += 1
        if time.perf_counter() > deadline:
            break
    out.send((done, time.perf_counter() - started))
    out.close()


def _spawn(target: Any, args: tuple[Any, ...]) -> tuple[Any, Connection]:
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=target, args=(*args, sender))
    process.start()
    sender.close()
    return process, receiver


def _run_api(
    port: int, token: str, first: int, seconds: float, budget: int, server_pid: int, database: str
) -> LoadResult:
    process, receiver = _spawn(_load, (port, token, first, budget, seconds))
    receiver.recv()  # the bodies are built: the load starts now
    server_before = cpu_seconds(server_pid)
    with BackendCpu(PG_SERVER_URL, database) as backends:
        result: LoadResult = receiver.recv()
    server_cpu = cpu_seconds(server_pid) - server_before
    process.join()
    return replace(result, server_cpu_s=server_cpu, postgres_cpu_s=backends.seconds)


def _run_bare(first: int, seconds: float, budget: int) -> tuple[int, float]:
    start_at = time.time() + 4.0
    share = budget // BARE_PROCESSES
    started = [
        _spawn(_bare, (first + n * share, share, seconds, start_at)) for n in range(BARE_PROCESSES)
    ]
    done, longest = 0, 0.0
    for process, receiver in started:
        count, elapsed = receiver.recv()
        process.join()
        done += count
        longest = max(longest, elapsed)
    return done, longest


def _per_accepted_ms(cpu_s: float, result: LoadResult) -> str:
    return f"{cpu_s * 1000 / result.accepted:.2f}" if result.accepted else "-"


def _plot(api_rates: list[float], bare_rates: list[float]) -> str:
    def draw(figure: Any) -> None:
        axes = figure.add_subplot(1, 1, 1)
        rounds = range(1, len(api_rates) + 1)
        width = 0.38
        axes.bar([r - width / 2 for r in rounds], api_rates, width, label="POST /strategies")
        axes.bar([r + width / 2 for r in rounds], bare_rates, width, label="bare insert")
        axes.axhline(500, color="grey", linestyle=":", label="goal 500/s")
        axes.set_xticks(list(rounds), [f"round {r}" for r in rounds])
        axes.set_ylabel("submissions per second")
        axes.set_title("API throughput against inserting the same rows")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3)

    return save_plot(SECTION, draw)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    command = ".venv/bin/python -m bench.api_throughput"
    if args.workers != 4 or args.seconds != 15.0:
        command += f" --workers {args.workers} --seconds {args.seconds:g}"
    budget = 40_000  # more requests than any round can send

    api_results: list[LoadResult] = []
    nudges: list[int] = []  # relay nudges each round queued (no worker takes them here)
    bare_results: list[tuple[int, float]] = []
    in_process: list[InProcess] = []
    with BenchStack("api") as stack:
        from controlplane.services.credentials import credential_issue

        token = credential_issue(name="bench").token
        port = free_port()
        server = stack.spawn(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--backlog",
                "2048",
            ],
        )
        server.wait_for_line("Booting worker", 60)
        time.sleep(2)
        progress(f"gunicorn with {args.workers} sync workers on port {port}")
        warm = _run_api(port, token, 10_000_000, 3, 500, server.pid, stack.database)
        progress(f"warm-up: {warm.accepted} accepted")
        for round_number in range(ROUNDS):
            base = round_number * budget * 2
            queued_before = stack.queued_tasks()
            result = _run_api(port, token, base, args.seconds, budget, server.pid, stack.database)
            nudges.append(stack.queued_tasks() - queued_before)
            if result.other:
                progress(f"non-202 answers: {result.other}")
            api_results.append(result)
            accepted = fmt_rate(rate(result.accepted, result.seconds))
            progress(
                f"round {round_number + 1}: API {accepted}/s, gunicorn "
                f"{_per_accepted_ms(result.server_cpu_s, result)} ms and load client "
                f"{_per_accepted_ms(result.client_cpu_s, result)} ms of CPU per accepted, "
                f"{nudges[-1]} relay nudges queued"
            )
            bare = _run_bare(base + budget, args.seconds, budget)
            bare_results.append(bare)
            progress(f"round {round_number + 1}: bare insert {fmt_rate(rate(*bare))}/s")
            inner = run_in_process(token, base + budget * 3 // 2, args.seconds, budget // 4)
            in_process.append(inner)
            progress(
                f"round {round_number + 1}: in process {fmt_rate(inner.api_rate)}/s, "
                f"{inner.cpu_ms_per_accepted:.2f} ms CPU per accepted; bare insert in "
                f"process {fmt_rate(inner.bare_rate)}/s"
            )
        machine = stack.machine()

    api_rates = [rate(r.accepted, r.seconds) for r in api_results]
    bare_rates = [rate(*b) for b in bare_results]
    latencies = [value for r in api_results for value in r.latencies_ms]
    rows = [
        [
            str(n + 1),
            fmt_rate(api_rates[n]),
            fmt_rate(bare_rates[n]),
            f"{api_rates[n] / bare_rates[n]:.2f}",
            _per_accepted_ms(api_results[n].server_cpu_s, api_results[n]),
            _per_accepted_ms(api_results[n].client_cpu_s, api_results[n]),
            _per_accepted_ms(api_results[n].postgres_cpu_s, api_results[n]),
        ]
        for n in range(len(api_rates))
    ]
    inner_rows = [
        [
            str(n + 1),
            fmt_rate(r.api_rate),
            fmt_rate(r.bare_rate),
            f"{r.api_rate / r.bare_rate:.2f}",
            f"{r.cpu_ms_per_accepted:.2f}",
        ]
        for n, r in enumerate(in_process)
    ]
    for row in rows + inner_rows:
        progress(" | ".join(row))
    if args.no_write:
        return
    image = _plot(api_rates, bare_rates)
    from commitlog.conf import commitlog_settings

    mark_ttl_s = commitlog_settings().relay_nudge_queued_ttl_seconds
    rejected = sum(sum(r.other.values()) for r in api_results)
    body = run_header("API throughput", command, machine)
    body += (
        f"\n`gunicorn config.wsgi --workers {args.workers}` (sync workers, `PROFILE=dev`, "
        "`DJANGO_DEBUG=false`, a bearer token from `credential_issue`, a relay nudge through "
        "Redis after each commit unless one is queued), "
        f"{args.seconds:g} s per round, {IN_FLIGHT} requests in flight, each on a connection "
        "of its own, from a load client in its own process (non-blocking sockets, one epoll "
        "loop), every request a distinct 20-node DAG. CPU per accepted submission is read "
        "from `/proc` for gunicorn (master and workers), the load client itself and "
        "PostgreSQL's backends serving the benchmark's database (bench/cpu.py), "
        "over the time the load runs. The "
        f"bare insert runs {BARE_PROCESSES} processes inserting the same two rows per "
        "submission through the ORM, one transaction each. "
        "No relay worker runs, so the nudges stay queued: with one queued, the workers send "
        f"no other until its mark lapses ({mark_ttl_s:g} s), but each commit still asks "
        "Redis whether one is; the rounds queued "
        f"{' and '.join(str(n) for n in nudges)} (with a relay, about one per relay run). "
        f"Non-202 answers: {rejected}. Request latency under this load: p50 "
        f"{percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms.\n\n"
    )
    headers = ["round", "API accepted/s", "bare insert/s", "API / bare"]
    headers += ["gunicorn CPU ms per accepted", "load client CPU ms per accepted"]
    headers += ["PostgreSQL CPU ms per accepted"]
    body += table(headers, rows)
    body += (
        "\n\nIn process, after each round above: the same view through Django's test "
        "client in the benchmark process (every middleware, DRF and the service; no "
        "gunicorn, no HTTP parsing, one request at a time), then the bare insert of the same "
        f"rows in that process, {args.seconds:g} s each. CPU is the benchmark process's "
        "over the requests (PostgreSQL's backend not included).\n\n"
    )
    body += table(
        [
            "round",
            "in process accepted/s",
            "bare insert/s (1 process)",
            "in process / bare",
            "CPU ms per accepted",
        ],
        inner_rows,
    )
    body += f"\n\n![API throughput]({image})\n"
    write_section(SECTION, body)


if __name__ == "__main__":
    main()
