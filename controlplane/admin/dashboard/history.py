"""The dashboard's history: the commit log's activity minutes over the last hour and day,
as the domain names them (submissions, batches), drawn as server-side charts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import dateformat, timezone
from django.utils.safestring import SafeString

from commitlog.conf import commitlog_settings
from commitlog.models import ActivityMinute
from commitlog.telemetry.activity import RELAY, activity_since, consumer_source
from controlplane.admin.dashboard.charts import Series, line_chart
from controlplane.records import Event

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Window:
    name: str
    label: str
    minutes: int
    bucket: int  # minutes per point: a day is drawn in ten-minute steps


WINDOWS = (Window("hour", "last hour", 60, 1), Window("day", "last day", 24 * 60, 10))

# Reads one fact of a minute: the relay's row, the consumer's row (either may be None).
Fact = Callable[[ActivityMinute | None, ActivityMinute | None], float | None]


@dataclass(frozen=True)
class Line:
    slug: str
    label: str
    color: str
    fact: Fact
    gauge: bool = False  # a level (worst of a step, gaps kept), else a count per minute


def _count(row: ActivityMinute | None, read: Callable[[ActivityMinute], float]) -> float:
    return read(row) if row is not None else 0.0


def _published(event: Event) -> Fact:
    return lambda relay, _: _count(relay, lambda r: float(r.records.get(event.value, 0)))


CHARTS: tuple[tuple[str, str, tuple[Line, ...]], ...] = (
    (
        "throughput",
        "Submissions and records per minute",
        (
            Line("submissions", "submissions published", "#417690", _published(Event.INGEST)),
            Line("batches", "batches published", "#8a6d3b", _published(Event.REBALANCE)),
            Line(
                "records",
                "records applied",
                "#2e7d32",
                lambda _, c: _count(c, lambda r: float(sum(r.records.values()))),
            ),
        ),
    ),
    (
        "backlog",
        "Relay backlog (pending rows)",
        (Line("backlog", "pending", "#417690", lambda r, _: _gauge(r, "backlog"), gauge=True),),
    ),
    (
        "oldest-pending",
        "Oldest pending row (seconds)",
        (Line("oldest", "age", "#8a6d3b", lambda r, _: _gauge(r, "oldest_pending_s"), gauge=True),),
    ),
    (
        "lag",
        "Consumer lag (records)",
        (Line("lag", "lag", "#2e7d32", lambda _, c: _gauge(c, "lag"), gauge=True),),
    ),
    (
        "failures",
        "Failures per minute",
        (
            Line("failed", "publish failures", "#ba2121", lambda r, _: _count(r, _failed)),
            Line("dead", "dead rows", "#6a1b9a", lambda r, _: _count(r, _dead)),
            Line("refused", "invalid or conflicting", "#e65100", lambda _, c: _count(c, _refused)),
        ),
    ),
)


def _gauge(row: ActivityMinute | None, name: str) -> float | None:
    value = getattr(row, name) if row is not None else None
    return float(value) if value is not None else None


def _failed(row: ActivityMinute) -> float:
    return float(row.failed)


def _dead(row: ActivityMinute) -> float:
    return float(row.dead)


def _refused(row: ActivityMinute) -> float:
    return float(row.invalid + row.conflicts)


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    legend: list[tuple[str, str, str]]  # (label, color, the last hour's total or peak)
    svgs: list[tuple[Window, SafeString]]


@dataclass(frozen=True)
class History:
    charts: list[Chart]
    relay_last_batch: datetime | None
    consumer_last_batch: datetime | None


def _points(
    line: Line,
    window: Window,
    first: datetime,
    relay: dict[datetime, ActivityMinute],
    consumer: dict[datetime, ActivityMinute],
) -> list[float | None]:
    points: list[float | None] = []
    for step in range(window.minutes // window.bucket):
        values = []
        for offset in range(window.bucket):
            minute = first + (step * window.bucket + offset) * MINUTE
            values.append(line.fact(relay.get(minute), consumer.get(minute)))
        reported = [v for v in values if v is not None]
        if line.gauge:
            points.append(max(reported) if reported else None)
        else:
            points.append(sum(reported) / window.bucket)
    return points


def _last_batch(rows: Sequence[ActivityMinute]) -> datetime | None:
    return max((r.last_batch_at for r in rows if r.last_batch_at is not None), default=None)


def _time(at: datetime, window: Window) -> str:
    # A day's axis spans two dates: it says which.
    return dateformat.format(timezone.localtime(at), "H:i" if window.minutes <= 60 else "m-d H:i")


def history(now: datetime | None = None) -> History:
    """A day of minutes, read once through the (minute, source) index."""
    now = now or timezone.now()
    this_minute = now.replace(second=0, microsecond=0)
    day_start = this_minute - (WINDOWS[-1].minutes - 1) * MINUTE
    consumer = consumer_source(commitlog_settings().commitlog_group)
    rows = activity_since(day_start, [RELAY, consumer])
    relay_rows = {r.minute: r for r in rows if r.source == RELAY}
    consumer_rows = {r.minute: r for r in rows if r.source == consumer}
    charts = []
    for slug, title, lines in CHARTS:
        svgs: list[tuple[Window, SafeString]] = []
        hour_totals: list[str] = []
        for window in WINDOWS:
            first = this_minute - (window.minutes - 1) * MINUTE
            series = [
                Series(line.slug, line.label, line.color,
                       _points(line, window, first, relay_rows, consumer_rows))
                for line in lines
            ]  # fmt: skip
            if window is WINDOWS[0]:
                hour_totals = [
                    f"peak {s.peak:g}" if line.gauge else f"{s.total:g}"
                    for s, line in zip(series, lines, strict=True)
                ]
            chart = line_chart(
                slug=f"{slug}-{window.name}",
                title=f"{title}, {window.label}",
                series=series,
                start=_time(first, window),
                end=_time(this_minute, window),
            )
            svgs.append((window, chart))
        legend = [
            (line.label, line.color, total) for line, total in zip(lines, hour_totals, strict=True)
        ]
        charts.append(Chart(slug, title, legend, svgs))
    return History(
        charts=charts,
        relay_last_batch=_last_batch(list(relay_rows.values())),
        consumer_last_batch=_last_batch(list(consumer_rows.values())),
    )
