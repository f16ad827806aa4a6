"""Consumer throughput and memory: records applied per second with durable dedup, and the
consumer process's resident memory over a long run.

Side by side in one run:
- `apply_batch` in this process on batches of raw records (no Kafka): the database part
  alone;
- `manage.py consume_commitlog --exit-at-end` (a real process, `DJANGO_DEBUG=false`)
  reading N records from the topic, its RSS sampled from /proc every half second;
- the same process reading the same topic again as a new group: every record is a
  duplicate (the dedup path alone).

Every record is a real `gateway.ingest` record of a 20-node DAG whose submission the
database holds as `published`, as in production, so applying moves it to `recorded`.

    .venv/bin/python -m bench.consumer_throughput [--records 200000]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.cpu import WindowCpu
from bench.harness import (
    PG_SERVER_URL,
    fmt_rate,
    progress,
    rate,
    rss_kib,
    run_header,
    save_plot,
    table,
    write_section,
)
from bench.stack import BenchStack
from devstack.process import ChildProcess

SECTION = "consumer_throughput"
IN_PROCESS_RECORDS = 20_000
BATCH = 500
_BATCH_LINE = re.compile(
    r"ts=(\S+) level=INFO logger=commitlog.consumer.loop event=consumer_batch "
    r"records=(\d+) applied=(\d+) duplicates=(\d+)"
)


@dataclass
class ConsumerRun:
    records: int = 0
    applied: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    records_timed: int = 0
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (t, records, rss KiB)


def _batches(log: str) -> list[tuple[float, int, int, int]]:
    found = []
    for match in _BATCH_LINE.finditer(log):
        stamp = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
        found.append((stamp, int(match.group(2)), int(match.group(3)), int(match.group(4))))
    return found


def _produce(stack: BenchStack, records: list[Any]) -> None:
    from commitlog.kafka import TransactionalWriter

    writer = TransactionalWriter(
        bootstrap=stack.bootstrap,
        topic=stack.topic,
        transactional_id=f"bench-consumer-{uuid.uuid4().hex[:8]}",
    )
    for start in range(0, len(records), 5000):
        writer.publish(records[start : start + 5000])
        if start % 50_000 == 0:
            progress(f"produced {start + 5000:,} records")
    writer.close()


def _in_process(prepared: list[Any]) -> tuple[int, float]:
    """apply_batch on raw records, the way the loop calls it, without Kafka."""
    from commitlog.consumer.applier import apply_batch
    from commitlog.records import RawRecord

    raws = [
        RawRecord("bench-in-process", n % 3, n // 3, p.key.encode(), p.value)
        for n, p in enumerate(prepared)
    ]
    applied = 0
    started = time.perf_counter()
    for start in range(0, len(raws), BATCH):
        applied += apply_batch(raws[start : start + BATCH]).applied
    return applied, time.perf_counter() - started


def _watch(child: ChildProcess, expected: int, timeout_s: float) -> ConsumerRun:
    """Sample the consumer's RSS and progress until it exits."""
    run = ConsumerRun()
    deadline = time.monotonic() + timeout_s
    last_report = 0
    while child.alive:
        if time.monotonic() > deadline:
            raise RuntimeError(f"consumer did not finish within {timeout_s:.0f}s")
        done = sum(b[1] for b in _batches(child.output()))
        rss = rss_kib(child.pid)
        if rss is not None:
            run.samples.append((time.time(), done, rss))
        if done - last_report >= expected // 10:
            progress(f"consumer: {done:,} of {expected:,} records, RSS {(rss or 0) / 1024:.0f} MiB")
            last_report = done
        time.sleep(0.5)
    batches = _batches(child.output())
    if child.returncode() != 0 or not batches:
        raise RuntimeError(f"consumer failed:\n{child.output()[-3000:]}")
    run.records = sum(b[1] for b in batches)
    run.applied = sum(b[2] for b in batches)
    run.duplicates = sum(b[3] for b in batches)
    # From the end of the first batch to the end of the last: group join is not counted.
    run.seconds = batches[-1][0] - batches[0][0]
    run.records_timed = run.records - batches[0][1]
    return run


def _consume(stack: BenchStack, name: str, group: str, expected: int) -> ConsumerRun:
    consumer = stack.spawn(
        name,
        [
            sys.executable,
            "manage.py",
            "consume_commitlog",
            "--exit-at-end",
            "--group",
            group,
            "--batch-size",
            str(BATCH),
        ],
    )
    run = _watch(consumer, expected, timeout_s=240)
    stack.retire(consumer)
    return run


def _us(cpu_s: float, count: int) -> str:
    return f"{cpu_s * 1e6 / count:,.0f}" if count else "-"


def _rss_at(run: ConsumerRun, fraction: float) -> float:
    """RSS in MiB at the first sample taken once `fraction` of the records were applied."""
    target = fraction * run.records
    for _, done, rss in run.samples:
        if done >= target:
            return rss / 1024
    return run.samples[-1][2] / 1024


def _plot(run: ConsumerRun) -> str:
    def draw(figure: Any) -> None:
        axes = figure.add_subplot(1, 1, 1)
        start = run.samples[0][0]
        axes.plot([t - start for t, _, _ in run.samples], [r / 1024 for _, _, r in run.samples])
        axes.set_xlabel("seconds since the consumer started")
        axes.set_ylabel("consumer RSS (MiB)", color="tab:blue")
        axes.set_ylim(bottom=0)
        twin = axes.twinx()
        twin.plot(
            [t - start for t, _, _ in run.samples],
            [n / 1000 for _, n, _ in run.samples],
            color="tab:orange",
            linestyle="--",
        )
        twin.set_ylabel("records applied (thousands)", color="tab:orange")
        twin.set_ylim(bottom=0)
        axes.set_title(f"consume_commitlog over {run.records:,} records: resident memory")

    return save_plot(SECTION, draw)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    command = ".venv/bin/python -m bench.consumer_throughput"
    if args.records != 200_000:
        command += f" --records {args.records}"

    with BenchStack("consumer") as stack:
        from bench.workload import copy_rows, prepare_many, vacuum_analyze
        from commitlog.kafka import OutgoingRecord

        progress(f"building {args.records + IN_PROCESS_RECORDS:,} records")
        prepared = prepare_many(args.records + IN_PROCESS_RECORDS, "c")
        local, logged = prepared[:IN_PROCESS_RECORDS], prepared[IN_PROCESS_RECORDS:]
        progress("storing their submissions as published")
        for start in range(0, len(prepared), 50_000):
            copy_rows(prepared[start : start + 50_000], status="published", with_outbox=False)
        vacuum_analyze()
        records = [OutgoingRecord(p.key.encode(), p.value) for p in logged]
        del prepared
        _produce(stack, records)
        del records
        progress(f"apply_batch in process on {len(local):,} records")
        with WindowCpu(PG_SERVER_URL, stack.database) as local_cpu:
            local_applied, local_s = _in_process(local)
        progress(f"in process: {fmt_rate(rate(local_applied, local_s))} records/s")
        progress(f"consume_commitlog on {len(logged):,} records")
        run = _consume(stack, "consumer", f"{stack.group}-main", len(logged))
        progress(f"consumer: {fmt_rate(rate(run.records_timed, run.seconds))} records/s")
        if run.applied != len(logged):
            raise RuntimeError(f"applied {run.applied} of {len(logged)}")
        progress("consume_commitlog again as a new group: every record a duplicate")
        again = _consume(stack, "replay", f"{stack.group}-replay", len(logged))
        progress(f"duplicates: {fmt_rate(rate(again.records_timed, again.seconds))} records/s")
        if again.duplicates != len(logged):
            raise RuntimeError(f"{again.duplicates} duplicates of {len(logged)}")
        machine = stack.machine()

    rss = [r for _, _, r in run.samples]
    working = [r for _, n, r in run.samples if n > 0]
    first_working = working[0] if working else rss[0]
    quarters = [_rss_at(run, fraction) for fraction in (0.25, 0.5, 0.75, 1.0)]
    summary = [
        [
            "in process: `apply_batch`, no Kafka",
            f"{local_applied:,}",
            fmt_rate(rate(local_applied, local_s)),
            "-",
        ],
        [
            "`consume_commitlog` process",
            f"{run.records:,}",
            fmt_rate(rate(run.records_timed, run.seconds)),
            f"{first_working / 1024:.0f} -> {rss[-1] / 1024:.0f} (max {max(rss) / 1024:.0f})",
        ],
        [
            "`consume_commitlog`, new group: all duplicates",
            f"{again.records:,}",
            fmt_rate(rate(again.records_timed, again.seconds)),
            f"max {max(r for _, _, r in again.samples) / 1024:.0f}",
        ],
    ]
    for row in summary:
        progress(" | ".join(row))
    progress(
        f"in process CPU per record: {_us(local_cpu.own_s, local_applied)} us here, "
        f"{_us(local_cpu.postgres_s, local_applied)} us PostgreSQL"
    )
    if args.no_write:
        return
    image = _plot(run)
    body = run_header("Consumer throughput and memory", command, machine)
    body += (
        f"\n{len(logged):,} `gateway.ingest` records (20-node DAGs, about 7.7 KB each) in a "
        "3-partition topic, their submissions stored as `published`; the consumer applies "
        f"them in batches of {BATCH} (dedup marks, `published -> recorded`) and commits "
        "offsets. The process rate runs from the end of its first batch to the end of its "
        "last (group join excluded). RSS is read from `/proc/<pid>/status` every 0.5 s "
        f"({len(run.samples)} samples): after 25, 50, 75 and 100 % of the records it was "
        + ", ".join(f"{q:.0f}" for q in quarters)
        + f" MiB (max {max(rss) / 1024:.0f} MiB), so {quarters[-1] - quarters[0]:+.0f} MiB "
        "from the first quarter to the end.\n\n"
    )
    body += table(["what", "records", "records/s", "RSS MiB (first batch -> end)"], summary)
    body += (
        f"\n\nCPU per record of the in-process apply: {_us(local_cpu.own_s, local_applied)} µs "
        f"in the benchmark process, {_us(local_cpu.postgres_s, local_applied)} µs in "
        "PostgreSQL's backends (read from `/proc`; bench/cpu.py)."
    )
    body += f"\n\n![consumer memory]({image})\n"
    write_section(SECTION, body)


if __name__ == "__main__":
    main()
