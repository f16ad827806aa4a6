"""End-to-end latency: from a submission's DB commit to its record being readable in Kafka,
and to the consumer having recorded it, at steady submission rates.

The real processes run: a Celery worker (the relay, woken by the on_commit nudge) and
`manage.py consume_commitlog`. Generator processes call the submission service at a
steady rate and note the moment each transaction committed (an on_commit callback
registered before the service's own nudge); a read_committed reader in this process
notes when each record arrives; the consumer's `recorded_at` is read from the database.

    .venv/bin/python -m bench.latency [--rates 50,500] [--seconds 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from bench.harness import progress
from bench.latency_load import (
    GENERATORS,
    KafkaReader,
    Phase,
    Submitted,
    generate,
)
from bench.latency_probe import PhaseRelay, describe_missing, phase_relay, relay_counts
from bench.latency_report import RateResult, fmt, result_lines, write_report
from bench.stack import BenchStack


def _run_phase(phase: Phase, seconds: float, salt: str) -> tuple[list[Submitted], float]:
    """Submissions of one phase, and the phase's start time."""
    context = multiprocessing.get_context("spawn")
    # Generators set Django up and build their requests first: seconds on a loaded machine.
    start_at = time.time() + 12.0
    pipes: list[Connection] = []
    processes = []
    for offset in range(GENERATORS):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=generate, args=(phase, seconds, offset, salt, start_at, sender)
        )
        process.start()
        sender.close()
        pipes.append(receiver)
        processes.append(process)
    submitted: list[Submitted] = []
    for receiver in pipes:
        submitted += [Submitted(*item) for item in receiver.recv()]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a generator exited with {process.exitcode}")
    return submitted, start_at


def _wait_recorded(ids: list[str], timeout_s: float) -> dict[str, float]:
    from controlplane.models import StrategySubmission

    deadline = time.monotonic() + timeout_s
    while True:
        found = dict(
            StrategySubmission.objects.filter(strategy_id__in=ids, status="recorded").values_list(
                "strategy_id", "recorded_at"
            )
        )
        if len(found) == len(ids) or time.monotonic() > deadline:
            return {str(key): at.timestamp() for key, at in found.items() if at is not None}
        time.sleep(0.5)


def _measure(reader: KafkaReader, phase: Phase, seconds: float, salt: str) -> RateResult:
    progress(f"{phase.label} for {seconds:g} s: generating")
    submitted, start_at = _run_phase(phase, seconds, salt)
    ids = [s.strategy_id for s in submitted]
    progress(f"{phase.label}: {len(submitted)} committed, waiting for the consumer")
    recorded = _wait_recorded(ids, timeout_s=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(i not in reader.seen for i in ids):
        time.sleep(0.2)
    kafka_ms = [
        (reader.seen[s.strategy_id] - s.committed) * 1000
        for s in submitted
        if s.strategy_id in reader.seen
    ]
    recorded_ms = [
        (recorded[s.strategy_id] - s.committed) * 1000
        for s in submitted
        if s.strategy_id in recorded
    ]
    last = max(s.committed for s in submitted)
    arrived = recorded.keys() & reader.seen.keys()
    late = [s for s in submitted if s.strategy_id not in arrived]
    for line in describe_missing(late, reader):
        progress(f"{phase.label}: not arrived in time: {line}")
    if late:
        before_end = (last - max(s.committed for s in late)) * 1000
        progress(f"{phase.label}: the last of them committed {before_end:.0f} ms before the end")
    return RateResult(
        phase=phase,
        submitted=len(submitted),
        achieved=len(submitted) / max(seconds, last - start_at),
        max_behind_ms=max((s.committed - s.scheduled) * 1000 for s in submitted),
        kafka_ms=kafka_ms,
        recorded_ms=recorded_ms,
        missing_kafka=len(submitted) - len(kafka_ms),
        missing_recorded=len(submitted) - len(recorded_ms),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rates", default="50,500")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--service-only", action="store_true", help="no direct-insert phase")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    rates = [int(r) for r in args.rates.split(",")]
    command = ".venv/bin/python -m bench.latency"
    if args.rates != "50,500" or args.seconds != 20.0:
        command += f" --rates {args.rates} --seconds {args.seconds:g}"

    phases = [Phase(rate, "service") for rate in rates]
    if not args.service_only:
        phases.append(Phase(max(rates), "direct"))
    results: list[RateResult] = []
    relays: list[PhaseRelay] = []
    with BenchStack("latency") as stack:
        python = sys.executable
        worker_name = f"{stack.celery_queue}@bench"
        worker = stack.spawn(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "controlplane",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--queues",
                stack.celery_queue,
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                worker_name,
                "--loglevel",
                "INFO",
            ],
        )
        consumer = stack.spawn("consumer", [python, "manage.py", "consume_commitlog"])
        worker.wait_for_line("ready.", 60)
        consumer.wait_for_line("event=consumer_assigned", 60)
        progress("worker and consumer are up")
        reader = KafkaReader(stack.bootstrap, stack.topic)
        try:
            warm = _measure(reader, Phase(20, "service"), 2, "warm")
            progress(f"warm-up: {warm.submitted} submissions recorded")
            for number, phase in enumerate(phases):
                before = relay_counts(worker, worker_name)
                result = _measure(reader, phase, args.seconds, f"p{number}")
                results.append(result)
                relay = phase_relay(worker, before, relay_counts(worker, worker_name))
                relays.append(relay)
                progress(
                    f"{phase.label}: achieved {result.achieved:.0f}/s, commit->Kafka p50 "
                    f"{fmt(result.kafka_ms, 50)} p99 {fmt(result.kafka_ms, 99)} ms, "
                    f"commit->recorded p50 {fmt(result.recorded_ms, 50)} p99 "
                    f"{fmt(result.recorded_ms, 99)} ms; relay runs {relay.runs} "
                    f"({relay.published_runs} published), batch p50 {fmt(relay.batch_ms, 50)} ms"
                )
        finally:
            reader.close()
        # Each one a batch the consumer rolled back and retried (a deadlock, for one).
        consumer_retries = consumer.output().count("event=consumer_db_error")
        if any(r.missing_kafka or r.missing_recorded for r in results):
            kept = Path(tempfile.mkdtemp(prefix="bench-latency-missing-"))
            for child in (worker, consumer):
                if child.log_path is not None:
                    shutil.copy(child.log_path, kept)
            progress(f"submissions did not arrive in time; worker's and consumer's logs: {kept}")
        progress(f"consumer batches retried after a database error: {consumer_retries}")
        machine = stack.machine()

    for line in result_lines(results):
        progress(line)
    if not args.no_write:
        write_report(results, relays, command, machine, args.seconds, consumer_retries)


if __name__ == "__main__":
    main()
