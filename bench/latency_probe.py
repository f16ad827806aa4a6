"""What the latency section reads besides its timings: how many relay runs the worker
made, and where each submission that did not arrive in time stands."""

from __future__ import annotations

from typing import Any

from bench.latency_load import KafkaReader, Submitted
from devstack.process import ChildProcess


def relay_runs(worker: ChildProcess, hostname: str) -> tuple[int, int]:
    """Relay task runs the worker has made so far, and how many of them published.

    The total is the worker's own count (Celery's remote-control stats): its per-task
    lines are DEBUG, below the level it runs at. Runs that published log `event=relay_run`.
    """
    from celery import current_app

    from commitlog.outbox.nudge import RELAY_TASK

    replies: dict[str, Any] = (
        current_app.control.inspect(destination=[hostname], timeout=5).stats() or {}
    )
    total = int(replies.get(hostname, {}).get("total", {}).get(RELAY_TASK, 0))
    return total, worker.output().count("event=relay_run ")


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
