"""Adding to the shared counters: one multi-row upsert per call."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import connection

# Upper bounds (seconds) of the relay batch duration histogram.
RELAY_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def counters_add(deltas: Mapping[tuple[str, str], float]) -> None:
    """Add each delta to its (name, label) counter, creating it at zero first."""
    items = [(name, label, value) for (name, label), value in deltas.items() if value]
    if not items:
        return
    values = ", ".join(["(%s, %s, %s)"] * len(items))
    params = [part for item in items for part in item]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO commitlog_metriccounter (name, label, value) VALUES {values}
            ON CONFLICT (name, label)
            DO UPDATE SET value = commitlog_metriccounter.value + EXCLUDED.value
            """,  # noqa: S608  (only placeholders are interpolated)
            params,
        )


def relay_batch_deltas(durations: list[float]) -> dict[tuple[str, str], float]:
    """Histogram counters (cumulative buckets, sum, count) for relay batch durations."""
    deltas: dict[tuple[str, str], float] = {}
    for duration in durations:
        for bound in RELAY_BATCH_BUCKETS:
            if duration <= bound:
                key = ("relay_batch_duration_seconds_bucket", str(bound))
                deltas[key] = deltas.get(key, 0) + 1
        inf = ("relay_batch_duration_seconds_bucket", "+Inf")
        deltas[inf] = deltas.get(inf, 0) + 1
        total = ("relay_batch_duration_seconds_sum", "")
        deltas[total] = deltas.get(total, 0) + duration
        count = ("relay_batch_duration_seconds_count", "")
        deltas[count] = deltas.get(count, 0) + 1
    return deltas
