"""The log's activity per minute, for operators' history: one upsert per relay run or
consumer batch, never per record, into one row per (minute, source).

Counts add up within the minute; gauges (backlog, oldest pending age, lag) keep the value
of the latest write. Readers get at most a day of rows through the (minute, source)
index, so what a read costs does not grow with the history kept; the prune keeps about
two days (`KEPT_AT_MOST`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from commitlog.models import ActivityMinute

RELAY = "relay"
KEPT_AT_MOST = timedelta(days=2)

# Gauges of NULL keep the minute's earlier value; `records` is merged key by key. The
# relay's gauges are read only for the relay's row, the group's lag only for a group's:
# a CASE branch not taken never runs its subquery. The backlog is counted through the
# partial index of pending rows, and the oldest of them is the lowest id.
_UPSERT = """
    INSERT INTO commitlog_activityminute AS a
        (minute, source, records, batches, failed, dead, invalid, conflicts, duplicates,
         backlog, oldest_pending_s, lag, last_batch_at)
    VALUES (
        %(minute)s, %(source)s, %(records)s::jsonb, %(batches)s, %(failed)s, %(dead)s,
        %(invalid)s, %(conflicts)s, %(duplicates)s,
        CASE WHEN %(relay)s THEN
            (SELECT count(*) FROM commitlog_outboxevent WHERE state = 'pending') END,
        CASE WHEN %(relay)s THEN
            (SELECT extract(epoch FROM %(at)s - created_at)::double precision
             FROM commitlog_outboxevent WHERE state = 'pending' ORDER BY id LIMIT 1) END,
        CASE WHEN %(group)s::text IS NOT NULL THEN
            (SELECT coalesce(sum(greatest(0, end_offset - committed_offset)), 0)
             FROM commitlog_consumerposition WHERE "group" = %(group)s) END,
        %(last_batch_at)s)
    ON CONFLICT (minute, source) DO UPDATE SET
        records = (
            SELECT coalesce(jsonb_object_agg(k, n), '{}'::jsonb) FROM (
                SELECT k, sum(v::bigint) AS n FROM (
                    SELECT * FROM jsonb_each_text(a.records)
                    UNION ALL SELECT * FROM jsonb_each_text(EXCLUDED.records)
                ) AS e(k, v) GROUP BY k
            ) AS merged
        ),
        batches = a.batches + EXCLUDED.batches,
        failed = a.failed + EXCLUDED.failed,
        dead = a.dead + EXCLUDED.dead,
        invalid = a.invalid + EXCLUDED.invalid,
        conflicts = a.conflicts + EXCLUDED.conflicts,
        duplicates = a.duplicates + EXCLUDED.duplicates,
        backlog = coalesce(EXCLUDED.backlog, a.backlog),
        oldest_pending_s = coalesce(EXCLUDED.oldest_pending_s, a.oldest_pending_s),
        lag = coalesce(EXCLUDED.lag, a.lag),
        last_batch_at = greatest(EXCLUDED.last_batch_at, a.last_batch_at)
"""
_COUNTS = ("failed", "dead", "invalid", "conflicts", "duplicates")


def consumer_source(group: str) -> str:
    return f"consumer:{group}"


def _params(source: str, records: Mapping[str, int], batches: int, **counts: int) -> dict[str, Any]:
    at = timezone.now()
    return {
        "at": at,
        "minute": at.replace(second=0, microsecond=0),
        "source": source,
        "records": json.dumps({event: n for event, n in records.items() if n}),
        "batches": batches,
        "last_batch_at": at if batches else None,
        **{name: counts.get(name, 0) for name in _COUNTS},
    }


def relay_activity_save(
    *, published: Mapping[str, int], batches: int, failed: int, dead: int
) -> None:
    """After a relay run: what it published per event, its failures, and the backlog."""
    with connection.cursor() as cursor:
        params = _params(RELAY, published, batches, failed=failed, dead=dead)
        cursor.execute(_UPSERT, {**params, "relay": True, "group": None})


def consumer_activity_save(
    *,
    group: str,
    applied: Mapping[str, int],
    batches: int,
    invalid: int,
    conflicts: int,
    duplicates: int,
) -> None:
    """After a consumer batch's offsets and positions are saved: what it applied per event,
    what it refused, and the group's lag over every partition."""
    params = _params(
        consumer_source(group),
        applied,
        batches,
        invalid=invalid,
        conflicts=conflicts,
        duplicates=duplicates,
    )
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, {**params, "relay": False, "group": group})


def activity_since(since: datetime, sources: Sequence[str]) -> list[ActivityMinute]:
    """The minutes from `since` on (at most a day is asked for), oldest first."""
    return list(
        ActivityMinute.objects.filter(minute__gte=since, source__in=list(sources)).order_by(
            "minute"
        )
    )
