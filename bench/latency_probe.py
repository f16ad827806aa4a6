"""What the latency section reads besides its timings: the relay's runs and Kafka
transactions in each phase (a record waits at least for one transaction), and where each
submission that did not arrive in time stands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bench.latency_load import KafkaReader, Submitted
from devstack.process import ChildProcess


@dataclass(frozen=True)
class RelayCounts:
    """What the worker had done by one moment: relay task runs, and how far its log was."""

    runs: int
    log_chars: int


@dataclass(frozen=True)
class PhaseRelay:
    """The relay's work over one phase: its runs and its Kafka transactions."""

    runs: int
    published_runs: int
    batch_ms: list[float]  # per batch: from its publish starting to its rows marked
    batch_rows: list[int]


_BATCH = re.compile(r"event=relay_batch rows=(\d+) .*? duration_ms=([\d.]+)")


def relay_counts(worker: ChildProcess, hostname: str) -> RelayCounts:
    """The total is the worker's own count (Celery's remote-control stats): its per-task
    lines are DEBUG, below the level it runs at."""
    from celery import current_app

    from commitlog.outbox.nudge import RELAY_TASK

    replies: dict[str, Any] = (
        current_app.control.inspect(destination=[hostname], timeout=5).stats() or {}
    )
    total = int(replies.get(hostname, {}).get("total", {}).get(RELAY_TASK, 0))
    return RelayCounts(total, len(worker.output()))


def phase_relay(worker: ChildProcess, before: RelayCounts, after: RelayCounts) -> PhaseRelay:
    """From the worker's log between two counts: runs that published log `relay_run`,
    each batch `relay_batch` with its rows and duration."""
    text = worker.output()[before.log_chars : after.log_chars]
    batches = _BATCH.findall(text)
    return PhaseRelay(
        runs=after.runs - before.runs,
        published_runs=text.count("event=relay_run "),
        batch_ms=[float(ms) for _, ms in batches],
        batch_rows=[int(rows) for rows, _ in batches],
    )


def describe_missing(missing: list[Submitted], reader: KafkaReader) -> list[str]:
    """Where each submission that did not arrive in time stands: its outbox row's state
    and times against its commit, so that a miss tells a lost row from a late one."""
    from commitlog.models import OutboxEvent
    from controlplane.models import StrategySubmission

    by_id = {s.strategy_id: s for s in missing}
    statuses = {
        str(key): status
        for key, status in StrategySubmission.objects.filter(strategy_id__in=by_id).values_list(
            "strategy_id", "status"
        )
    }
    lines = []
    for row in OutboxEvent.objects.filter(aggregate_id__in=by_id).order_by("id"):
        submitted = by_id[row.aggregate_id]
        published = (
            f"published {(row.published_at.timestamp() - submitted.committed) * 1000:.0f} ms "
            f"after commit at {row.published_partition}:{row.published_offset}"
            if row.published_at is not None
            else "not published"
        )
        lines.append(
            f"{row.aggregate_id}: outbox id {row.id} {row.state}, attempts {row.attempts}, "
            f"{published}; submission {statuses.get(row.aggregate_id, '?')}; "
            f"read from Kafka: {'yes' if row.aggregate_id in reader.seen else 'no'}"
        )
    return lines
