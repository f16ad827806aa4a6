"""What the consumer and the relay report for operators: positions, lag and counters."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from commitlog.consumer.applier import BatchOutcome
from commitlog.models import ConsumerPosition
from commitlog.telemetry.activity import consumer_activity_save
from commitlog.telemetry.counters import counters_add, relay_batch_deltas

_PROGRESS = """
    WITH positions AS (
        INSERT INTO commitlog_consumerposition
            ("group", topic, partition, committed_offset, end_offset, updated_at)
        SELECT %s, v.t, v.p, v.o, v.e, %s
        FROM unnest(%s::text[], %s::integer[], %s::bigint[], %s::bigint[]) AS v(t, p, o, e)
        ON CONFLICT ("group", topic, partition) DO UPDATE
        SET committed_offset = EXCLUDED.committed_offset,
            end_offset = EXCLUDED.end_offset,
            updated_at = EXCLUDED.updated_at
    )
    INSERT INTO commitlog_metriccounter (name, label, value)
    SELECT 'consumer_records_total', c.l, c.n
    FROM unnest(%s::text[], %s::double precision[]) AS c(l, n)
    WHERE c.n <> 0
    ON CONFLICT (name, label)
    DO UPDATE SET value = commitlog_metriccounter.value + EXCLUDED.value
"""


def consumer_progress_save(
    *,
    group: str,
    next_offsets: dict[tuple[str, int], int],
    ends: dict[int, int],
    outcome: BatchOutcome,
) -> None:
    """After an offset commit: the group's position per partition and the record counters,
    then the minute's activity (which reads the group's lag from the positions just saved).

    The first is one statement, so one round trip and atomic without a transaction block:
    it runs after every batch the consumer applies.
    """
    positions = sorted(next_offsets.items())
    counts = {
        "applied": outcome.applied,
        "duplicate": outcome.duplicates,
        "invalid": outcome.invalid,
        "conflict": outcome.conflicts,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            _PROGRESS,
            [
                group,
                timezone.now(),
                [topic for (topic, _), _ in positions],
                [partition for (_, partition), _ in positions],
                [offset for _, offset in positions],
                [max(offset, ends.get(partition, offset)) for (_, partition), offset in positions],
                list(counts),
                [float(value) for value in counts.values()],
            ],
        )
    consumer_activity_save(
        group=group,
        applied=outcome.applied_by_event,
        batches=1 if outcome.records else 0,
        invalid=outcome.invalid,
        conflicts=outcome.conflicts,
        duplicates=outcome.duplicates,
    )


def consumer_heartbeat_save(*, group: str, topic: str, ends: dict[int, int]) -> None:
    """An idle consumer is alive: refresh its rows' time and the partitions' ends."""
    for partition, end in ends.items():
        ConsumerPosition.objects.filter(group=group, topic=topic, partition=partition).update(
            end_offset=end, updated_at=timezone.now()
        )


def relay_progress_save(*, published: int, failed: int, dead: int, durations: list[float]) -> None:
    deltas = relay_batch_deltas(durations)
    deltas[("relay_rows_total", "published")] = published
    deltas[("relay_rows_total", "failed")] = failed
    deltas[("relay_rows_total", "dead")] = dead
    counters_add(deltas)
