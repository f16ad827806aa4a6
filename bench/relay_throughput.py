"""Relay throughput: rows per second published and marked, draining a pending outbox.

For each batch size, side by side in one run:
- the relay (`relay_outbox` with a ProcessWriter) draining N pending rows (real encoded
  ingest records, their submissions `accepted`), timed from the first claim to the last
  mark;
- the Kafka-only bound: the same bytes, the same TransactionalWriter, the same batch
  size, no database;
- the database-only bound: the same `relay_outbox` claiming and marking the same rows
  with a writer that answers positions at once and never calls Kafka;
each with the CPU its processes used per row (this process, the broker, the database's
backends: bench/cpu.py);
and once, next to the default batch size, the synchronous design: one Kafka transaction
per submission (what publishing in the request path costs), on a sample of the rows.

    .venv/bin/python -m bench.relay_throughput [--rows 50000] [--batch-sizes 100,500,1000,5000]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Sequence
from typing import Any

from bench.cpu import WindowCpu
from bench.harness import (
    PG_SERVER_URL,
    fmt_rate,
    progress,
    rate,
    run_header,
    save_plot,
    table,
    write_section,
)
from bench.relay_bounds import AnsweringWriters, Drain, Round, cpu_rows, rate_rows
from bench.stack import BenchStack

SECTION = "relay_throughput"
SYNC_SAMPLE_ROWS = 2000
SYNC_SAMPLE_SECONDS = 15.0


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _point_gateway_at(topic: str) -> str:
    """Route the relay to a fresh topic and transactional id; returns the id."""
    from django.test.utils import override_settings

    transactional_id = f"bench-relay-{uuid.uuid4().hex[:8]}"
    # Enabled for the rest of the run: commitlog.conf reads the settings again.
    override_settings(COMMITLOG_TOPIC=topic, COMMITLOG_TRANSACTIONAL_ID=transactional_id).enable()
    return transactional_id


def _window(stack: BenchStack) -> WindowCpu:
    return WindowCpu(PG_SERVER_URL, stack.database, other_pid=stack.broker_pid)


def _run_relay(
    stack: BenchStack, prepared: list[Any], batch_size: int, *, kafka: bool = True
) -> Drain:
    """The relay draining the rows; with `kafka=False`, to a writer that answers at once."""
    from bench.workload import copy_rows, reset_tables, vacuum_analyze
    from commitlog.models import OutboxEvent, OutboxState
    from commitlog.relay.policy import RelayPolicy
    from commitlog.relay.run import relay_outbox
    from commitlog.relay.writer import ProcessWriter
    from controlplane.models import StrategySubmission

    reset_tables()
    copy_rows(prepared)
    vacuum_analyze()
    topic = stack.create_topic(f"{stack.topic}-relay-{batch_size}") if kafka else ""
    if kafka:
        _point_gateway_at(topic)
    writers: Any = ProcessWriter() if kafka else AnsweringWriters()
    writers.get().publish([])  # init_transactions outside the timed part
    policy = RelayPolicy.from_settings(batch_size=batch_size, run_budget_s=600.0)
    with _window(stack) as cpu:
        started = time.perf_counter()
        run = relay_outbox(writers=writers, policy=policy)
        elapsed = time.perf_counter() - started
    writers.close()
    published = OutboxEvent.objects.filter(state=OutboxState.PUBLISHED).count()
    marked = StrategySubmission.objects.filter(status="published").count()
    if kafka:
        stack.delete_topic(topic)
    if run.failed or published != len(prepared) or marked != len(prepared):
        raise RuntimeError(
            f"relay run incomplete: {run}, outbox published={published}, submissions={marked}"
        )
    return Drain(run.published, elapsed, cpu.own_s, cpu.other_s if kafka else 0.0, cpu.postgres_s)


def _writer(stack: BenchStack, topic: str) -> Any:
    from commitlog.kafka import TransactionalWriter

    writer = TransactionalWriter(
        bootstrap=stack.bootstrap,
        topic=topic,
        transactional_id=f"bench-bound-{uuid.uuid4().hex[:8]}",
    )
    writer.publish([])
    return writer


def _run_upper_bound(stack: BenchStack, records: list[Any], batch_size: int) -> Drain:
    topic = stack.create_topic(f"{stack.topic}-bound-{batch_size}")
    writer = _writer(stack, topic)
    with _window(stack) as cpu:
        started = time.perf_counter()
        for chunk in _chunks(records, batch_size):
            writer.publish(chunk)
        elapsed = time.perf_counter() - started
    writer.close()
    stack.delete_topic(topic)
    return Drain(len(records), elapsed, cpu.own_s, cpu.other_s, 0.0)


def _run_sync(stack: BenchStack, records: list[Any]) -> tuple[int, float]:
    """One transaction per record, as a request that published itself would do."""
    topic = stack.create_topic(f"{stack.topic}-sync")
    writer = _writer(stack, topic)
    done = 0
    started = time.perf_counter()
    for record in records[:SYNC_SAMPLE_ROWS]:
        writer.publish([record])
        done += 1
        if time.perf_counter() - started > SYNC_SAMPLE_SECONDS:
            break
    elapsed = time.perf_counter() - started
    writer.close()
    stack.delete_topic(topic)
    return done, elapsed


def _plot(rounds: list[Round], sync_rate: float) -> str:
    def draw(figure: Any) -> None:
        axes = figure.add_subplot(1, 1, 1)
        positions = range(len(rounds))
        width = 0.27
        bars = [
            ([r.relay.rate for r in rounds], "relay (DB + Kafka)"),
            ([r.kafka.rate for r in rounds], "Kafka only (bound)"),
            ([r.database.rate for r in rounds], "database only (bound)"),
        ]
        for n, (values, label) in enumerate(bars):
            axes.bar([p + (n - 1) * width for p in positions], values, width, label=label)
        axes.axhline(sync_rate, color="red", linestyle="--", label="1 txn per submission")
        axes.axhline(10_000, color="grey", linestyle=":", label="goal 10,000 rows/s")
        axes.set_xticks(list(positions), [str(r.batch_size) for r in rounds])
        axes.set_xlabel("batch size (rows per Kafka transaction)")
        axes.set_ylabel("rows per second")
        axes.set_yscale("log")
        axes.set_title("Relay throughput, draining a pending outbox")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4, fontsize="small")

    return save_plot(SECTION, draw)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--batch-sizes", default="100,500,1000,5000")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch the docs")
    args = parser.parse_args(argv)
    batch_sizes = [int(size) for size in args.batch_sizes.split(",")]
    command = ".venv/bin/python -m bench.relay_throughput"
    if args.rows != 50_000 or args.batch_sizes != "100,500,1000,5000":
        command += f" --rows {args.rows} --batch-sizes {args.batch_sizes}"

    with BenchStack("relay") as stack:
        from bench.workload import prepare_many
        from commitlog.kafka import OutgoingRecord

        progress(f"building {args.rows} submissions with real encoded records")
        prepared = prepare_many(args.rows)
        records = [OutgoingRecord(p.key.encode(), p.value) for p in prepared]
        average = sum(len(p.value) for p in prepared) / len(prepared)
        progress(f"records built, {average:.0f} bytes each on average")

        rounds: list[Round] = []
        sync_rows, sync_s = 0, 0.0
        for batch_size in batch_sizes:
            progress(f"batch {batch_size}: relay draining {args.rows} pending rows")
            relay = _run_relay(stack, prepared, batch_size)
            progress(f"batch {batch_size}: relay {fmt_rate(relay.rate)} rows/s")
            kafka = _run_upper_bound(stack, records, batch_size)
            progress(f"batch {batch_size}: Kafka only {fmt_rate(kafka.rate)} rows/s")
            database = _run_relay(stack, prepared, batch_size, kafka=False)
            progress(f"batch {batch_size}: database only {fmt_rate(database.rate)} rows/s")
            rounds.append(Round(batch_size, relay, kafka, database))
            if batch_size == 1000 or (not sync_rows and batch_size == batch_sizes[-1]):
                progress("one Kafka transaction per submission (synchronous design)")
                sync_rows, sync_s = _run_sync(stack, records)
                progress(f"synchronous: {fmt_rate(rate(sync_rows, sync_s))} rows/s")
        machine = stack.machine()

    sync_rate = rate(sync_rows, sync_s)
    rows = rate_rows(rounds, sync_rate)
    per_row = cpu_rows(rounds)
    for line in rows + per_row:
        progress(" | ".join(line))
    if args.no_write:
        return
    image = _plot(rounds, sync_rate)
    body = run_header("Relay throughput", command, machine)
    body += (
        f"\n{args.rows:,} pending outbox rows (real `gateway.ingest` records of 20-node DAGs, "
        f"{average:,.0f} bytes each) drained by `relay_outbox(writers=ProcessWriter(), "
        "policy=RelayPolicy.from_settings(batch_size=N))`: claim, one Kafka transaction, "
        "mark the rows and their submissions published. Two bounds beside it, each run "
        "right after it: the *Kafka-only* bound produces the same bytes with the same "
        "`TransactionalWriter` and batch size, without the database; the *database-only* "
        "bound runs the same `relay_outbox` (claim, sign, mark, read-back backlog) over the "
        "same rows with a writer that answers positions at once and never calls Kafka. The "
        "relay pipelines the two sides (Kafka calls on a thread of their own), so its limit "
        "is the slower of them, min(both). The synchronous design publishes each submission "
        f"in its own Kafka transaction (first {sync_rows:,} rows, {sync_s:.1f} s): "
        f"{fmt_rate(sync_rate)} rows/s. Each round writes to topics of its own and deletes "
        "them when it is done, so every round starts with an empty broker.\n\n"
    )
    body += table(
        [
            "batch size",
            "relay rows/s",
            "Kafka-only rows/s",
            "DB-only rows/s",
            "relay / Kafka-only",
            "relay / DB-only",
            "relay / min(both)",
            "relay / sync",
        ],
        rows,
    )
    body += (
        "\n\nCPU per published row, in µs, read from `/proc` over each drain: *process* is "
        "the benchmark process (the relay's threads, or the bound's producer; a sampler "
        "thread of 10 queries a second included), *broker* the embedded broker, "
        "*PostgreSQL* the backends serving the benchmark's database (sampled from "
        "`pg_stat_activity` every 0.1 s).\n\n"
    )
    body += table(["batch size", "drain", "process", "broker", "PostgreSQL", "all three"], per_row)
    body += f"\n\n![relay throughput by batch size]({image})\n"
    write_section(SECTION, body)


if __name__ == "__main__":
    main()
