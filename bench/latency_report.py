"""The latency section's results: the rows printed and written, its plot and its text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.harness import Machine, percentile, run_header, save_plot, table, write_section
from bench.latency_load import GENERATORS, Phase
from bench.latency_probe import PhaseRelay

SECTION = "latency"
# Commit -> readable in Kafka, at every rate measured: percentile -> milliseconds.
KAFKA_GOAL_MS = {50: 10.0, 99: 30.0}


@dataclass
class RateResult:
    phase: Phase
    submitted: int
    achieved: float
    max_behind_ms: float
    kafka_ms: list[float]
    recorded_ms: list[float]
    missing_kafka: int
    missing_recorded: int


def _plot(results: list[RateResult]) -> str:
    def draw(figure: Any) -> None:
        axes = figure.add_subplot(1, 1, 1)
        for result in results:
            for label, values, style in (
                ("commit -> Kafka", result.kafka_ms, "-"),
                ("commit -> recorded", result.recorded_ms, "--"),
            ):
                ordered = sorted(values)
                if not ordered:
                    continue
                fractions = [(n + 1) / len(ordered) for n in range(len(ordered))]
                axes.plot(ordered, fractions, style, label=f"{result.phase.label} {label}")
        for pct, style in ((50, ":"), (99, "-.")):
            at = KAFKA_GOAL_MS[pct]
            axes.axvline(at, color="grey", linestyle=style, label=f"goal p{pct} to Kafka {at:g} ms")
        axes.set_xscale("log")
        axes.set_xlabel("latency after the submission's DB commit (ms)")
        axes.set_ylabel("fraction of submissions")
        axes.set_title("End-to-end latency (cumulative distribution)")
        figure.set_size_inches(11, 5)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")

    return save_plot(SECTION, draw)


def fmt(values: list[float], pct: float) -> str:
    return f"{percentile(values, pct):.1f}" if values else "-"


def _result_rows(results: list[RateResult]) -> list[list[str]]:
    rows = []
    for result in results:
        for label, values, missing in (
            ("commit -> readable in Kafka", result.kafka_ms, result.missing_kafka),
            ("commit -> recorded by the consumer", result.recorded_ms, result.missing_recorded),
        ):
            rows.append(
                [
                    f"{result.phase.label} (achieved {result.achieved:.0f}/s)",
                    label,
                    f"{len(values):,}" + (f" ({missing} missing)" if missing else ""),
                    fmt(values, 50),
                    fmt(values, 95),
                    fmt(values, 99),
                    f"{max(values):.0f}" if values else "-",
                ]
            )
    return rows


def result_lines(results: list[RateResult]) -> list[str]:
    return [" | ".join(row) for row in _result_rows(results)]


def write_report(
    results: list[RateResult],
    relays: list[PhaseRelay],
    command: str,
    machine: Machine,
    seconds: float,
    consumer_retries: int,
) -> None:
    """The section in docs/BENCHMARKS.md and its plot."""
    rows = _result_rows(results)
    image = _plot(results)
    body = run_header("End-to-end latency", command, machine)
    body += (
        f"\nSteady submission rates for {seconds:g} s each, from {GENERATORS} generator "
        "processes calling `strategy_submit` (a 20-node DAG per submission); a generator that "
        "falls behind its schedule for the whole phase stops at its end, so *achieved* is what "
        "the machine sustained. *Direct insert* writes the same two rows and sends the same "
        "nudge without the service's validation, to reach the rate the service alone cannot "
        "on this machine. Processes: a Celery "
        "worker (`celery -A config worker --concurrency 1`, woken by the on_commit nudge "
        "through Redis) and `manage.py consume_commitlog`, both with `DJANGO_DEBUG=false`. "
        "*Readable in Kafka*: a read_committed reader in the benchmark process receives the "
        "record (`fetch.wait.max.ms=5`). *Recorded*: the submission's `recorded_at`. All "
        "times in ms after the submission's transaction committed.\n\n"
    )
    body += table(["rate", "path", "submissions", "p50", "p95", "p99", "max"], rows)
    worst = max((r.max_behind_ms for r in results), default=0.0)
    relay_rows = [
        [
            result.phase.label,
            f"{relay.runs:,}",
            f"{relay.runs - relay.published_runs:,}",
            f"{len(relay.batch_ms):,}",
            fmt([float(n) for n in relay.batch_rows], 50),
            fmt(relay.batch_ms, 50),
            fmt(relay.batch_ms, 99),
        ]
        for result, relay in zip(results, relays, strict=True)
    ]
    body += (
        f"\n\nThe generators' worst lag behind their schedule was {worst:.0f} ms. Consumer "
        f"batches rolled back on a database error and retried: {consumer_retries}. The relay "
        "in each phase, from the worker's stats and log: a record is readable only once its "
        "batch's Kafka transaction has committed, and a batch's time (its publish started "
        "to its rows marked) holds that transaction.\n\n"
    )
    body += table(
        [
            "phase",
            "relay runs",
            "published nothing",
            "Kafka transactions",
            "rows per transaction p50",
            "transaction p50 ms",
            "p99 ms",
        ],
        relay_rows,
    )
    body += f"\n\n![latency distribution]({image})\n"
    write_section(SECTION, body)
