"""What the consumer and the relay report for operators: positions, lag and counters."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from commitlog.applier import BatchOutcome
from commitlog.counters import counters_add, relay_batch_deltas
from commitlog.models import ConsumerPosition


def consumer_progress_save(
    *,
    group: str,
    next_offsets: dict[tuple[str, int], int],
    ends: dict[int, int],
    outcome: BatchOutcome,
) -> None:
    """After an offset commit: the group's position per partition and the record counters."""
    with transaction.atomic():
        for (topic, partition), offset in next_offsets.items():
            ConsumerPosition.objects.update_or_create(
                group=group,
                topic=topic,
                partition=partition,
                defaults={
                    "committed_offset": offset,
                    "end_offset": max(offset, ends.get(partition, offset)),
                },
            )
        counters_add(
            {
                ("consumer_records_total", "applied"): outcome.applied,
                ("consumer_records_total", "duplicate"): outcome.duplicates,
                ("consumer_records_total", "invalid"): outcome.invalid,
                ("consumer_records_total", "conflict"): outcome.conflicts,
            }
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
