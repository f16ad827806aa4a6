"""Relay throughput: rows per second published and marked, draining a pending outbox.

For each batch size, side by side in one run:
- the relay (`relay_outbox` with a ProcessWriter) draining N pending rows (real encoded
  ingest records, their submissions `accepted`), timed from the first claim to the last
  mark;
- the upper bound: the same bytes, the same TransactionalWriter, the same batch size,
  no database;
and once, next to the default batch size, the synchronous design: one Kafka transaction
per submission (what publishing in the request path costs), on a sample of the rows.

    .venv/bin/python -m bench.relay_throughput [--rows 50000] [--batch-sizes 100,500,1000,5000]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.harness import fmt_rate, progress, rate, run_header, save_plot, table, write_section
from bench.stack import BenchStack

SECTION = "relay_throughput"
SYNC_SAMPLE_ROWS = 2000
SYNC_SAMPLE_SECONDS = 15.0


@dataclass(frozen=True)
class Round:
    batch_size: int
    relay_rows: int
    relay_s: float
    bound_rows: int
    bound_s: float

    @property
    def relay_rate(self) -> float:
        return rate(self.relay_rows, self.relay_s)

    @property
    def bound_rate(self) -> float:
        return rate(self.bound_rows, self.bound_s)


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _point_gateway_at(topic: str) -> str:
    """Route the relay to a fresh topic and transactional id; returns the id."""
    from django.test.utils import override_settings

    transactional_id = f"bench-relay-{uuid.uuid4().hex[:8]}"
    # Enabled for the rest of the run: commitlog.conf reads the settings again.
    override_settings(COMMITLOG_TOPIC=topic, COMMITLOG_TRANSACTIONAL_ID=transactional_id).enable()
    return transactional_id


def _run_relay(stack: BenchStack, prepared: list[Any], batch_size: int) -> tuple[int, float]:
    from bench.workload import copy_rows, reset_tables, vacuum_analyze
    from commitlog.models import OutboxEvent, OutboxState
    from commitlog.relay.run import RelayPolicy, relay_outbox
    from commitlog.relay.writer import ProcessWriter
    from controlplane.models import StrategySubmission

    reset_tables()
    copy_rows(prepared)
    vacuum_analyze()
    topic = stack.create_topic(f"{stack.topic}-relay-{batch_size}")
    _point_gateway_at(topic)
    writers = ProcessWriter()
    writers.get().publish([])  # init_transactions outside the timed part
    policy = RelayPolicy.from_settings(batch_size=batch_size, run_budget_s=600.0)
    started = time.perf_counter()
    run = relay_outbox(writers=writers, policy=policy)
    elapsed = time.perf_counter() - started
    writers.close()
    published = OutboxEvent.objects.filter(state=OutboxState.PUBLISHED).count()
    marked = StrategySubmission.objects.filter(status="published").count()
    stack.delete_topic(topic)
    if run.failed or published != len(prepared) or marked != len(prepared):
        raise RuntimeError(
            f"relay run incomplete: {run}, outbox published={published}, submissions={marked}"
        )
    return run.published, elapsed


def _writer(stack: BenchStack, topic: str) -> Any:
    from commitlog.kafka import TransactionalWriter

    writer = TransactionalWriter(
        bootstrap=stack.bootstrap,
        topic=topic,
        transactional_id=f"bench-bound-{uuid.uuid4().hex[:8]}",
    )
    writer.publish([])
    return writer


def _run_upper_bound(stack: BenchStack, records: list[Any], batch_size: int) -> float:
    topic = stack.create_topic(f"{stack.topic}-bound-{batch_size}")
    writer = _writer(stack, topic)
    started = time.perf_counter()
    for chunk in _chunks(records, batch_size):
        writer.publish(chunk)
    elapsed = time.perf_counter() - started
    writer.close()
    stack.delete_topic(topic)
    return elapsed


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
        width = 0.38
        relay = [r.relay_rate for r in rounds]
        bound = [r.bound_rate for r in rounds]
        axes.bar([p - width / 2 for p in positions], relay, width, label="relay (DB + Kafka)")
        axes.bar([p + width / 2 for p in positions], bound, width, label="Kafka only (bound)")
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
            relay_rows, relay_s = _run_relay(stack, prepared, batch_size)
            progress(f"batch {batch_size}: relay {fmt_rate(rate(relay_rows, relay_s))} rows/s")
            bound_s = _run_upper_bound(stack, records, batch_size)
            progress(
                f"batch {batch_size}: Kafka only {fmt_rate(rate(len(records), bound_s))} rows/s"
            )
            rounds.append(Round(batch_size, relay_rows, relay_s, len(records), bound_s))
            if batch_size == 1000 or (not sync_rows and batch_size == batch_sizes[-1]):
                progress("one Kafka transaction per submission (synchronous design)")
                sync_rows, sync_s = _run_sync(stack, records)
                progress(f"synchronous: {fmt_rate(rate(sync_rows, sync_s))} rows/s")
        machine = stack.machine()

    sync_rate = rate(sync_rows, sync_s)
    rows = [
        [
            str(r.batch_size),
            fmt_rate(r.relay_rate),
            fmt_rate(r.bound_rate),
            f"{r.relay_rate / r.bound_rate:.2f}",
            f"{r.relay_rate / sync_rate:.0f}x" if sync_rate else "-",
        ]
        for r in rounds
    ]
    for line in rows:
        progress(" | ".join(line))
    if args.no_write:
        return
    image = _plot(rounds, sync_rate)
    body = run_header("Relay throughput", command, machine)
    body += (
        f"\n{args.rows:,} pending outbox rows (real `gateway.ingest` records of 20-node DAGs, "
        f"{average:,.0f} bytes each) drained by `relay_outbox(writers=ProcessWriter(), "
        "policy=RelayPolicy.from_settings(batch_size=N))`: claim, one Kafka transaction, "
        "mark the rows and their submissions published. The bound produces the same bytes "
        "with the same `TransactionalWriter` and batch size, without the database. The "
        "synchronous design publishes each submission in its own Kafka transaction "
        f"(first {sync_rows:,} rows, {sync_s:.1f} s): {fmt_rate(sync_rate)} rows/s. Each "
        "round writes to topics of its own and deletes them when it is done, so every round "
        "starts with an empty broker.\n\n"
    )
    body += table(
        ["batch size", "relay rows/s", "Kafka-only rows/s", "relay / bound", "relay / sync"],
        rows,
    )
    body += f"\n\n![relay throughput by batch size]({image})\n"
    write_section(SECTION, body)


if __name__ == "__main__":
    main()
