"""Prometheus metrics, read from the database at scrape time: the outbox, the states, and
the counters every relay and consumer process adds to (so one endpoint covers them all),
and the /metrics view that serves them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from rest_framework.request import Request
from rest_framework.views import APIView

from commitlog.models import MetricCounter
from commitlog.telemetry.counters import RELAY_BATCH_BUCKETS
from commitlog.telemetry.degraded import COUNTER as DEGRADED_COUNTER
from controlplane.admin.dashboard.overview import overview
from controlplane.ops import response_counts

PREFIX = "controlplane"


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        view = overview()
        counters = {(c.name, c.label): c.value for c in MetricCounter.objects.all()}

        outbox = GaugeMetricFamily(
            f"{PREFIX}_outbox_rows", "Outbox rows by state", labels=["state"]
        )
        for state, n in view.outbox.items():
            outbox.add_metric([state], n)
        yield outbox
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row (0 when none)",
            value=view.oldest_pending_age.total_seconds() if view.oldest_pending_age else 0.0,
        )
        for name, counts in (
            ("submissions", view.submissions),
            ("rebalance_batches", view.batches),
        ):
            family = GaugeMetricFamily(f"{PREFIX}_{name}", f"{name} by status", labels=["status"])
            for status, n in counts.items():
                family.add_metric([status], n)
            yield family

        relay_rows = CounterMetricFamily(
            f"{PREFIX}_relay_rows", "Outbox rows handled by the relay", labels=["outcome"]
        )
        for outcome in ("published", "failed", "dead"):
            relay_rows.add_metric([outcome], counters.get(("relay_rows_total", outcome), 0.0))
        yield relay_rows
        buckets = [
            (str(bound), counters.get(("relay_batch_duration_seconds_bucket", str(bound)), 0.0))
            for bound in RELAY_BATCH_BUCKETS
        ]
        buckets.append(("+Inf", counters.get(("relay_batch_duration_seconds_bucket", "+Inf"), 0.0)))
        yield HistogramMetricFamily(
            f"{PREFIX}_relay_batch_duration_seconds",
            "Time to publish and mark one relay batch",
            buckets=buckets,
            sum_value=counters.get(("relay_batch_duration_seconds_sum", ""), 0.0),
        )

        records = CounterMetricFamily(
            f"{PREFIX}_consumer_records", "Records read back by the consumer", labels=["outcome"]
        )
        for outcome in ("applied", "duplicate", "invalid", "conflict"):
            records.add_metric([outcome], counters.get(("consumer_records_total", outcome), 0.0))
        yield records
        lag = GaugeMetricFamily(
            f"{PREFIX}_consumer_lag",
            "Records between the group's committed offset and the partition end",
            labels=["group", "topic", "partition"],
        )
        for p in view.partitions:
            lag.add_metric([p.group, p.topic, str(p.partition)], p.lag)
        yield lag
        heartbeat = GaugeMetricFamily(
            f"{PREFIX}_consumer_heartbeat_age_seconds",
            "Seconds since the consumer group last reported its positions",
            labels=["group"],
        )
        seen: dict[str, datetime] = {}
        for p in view.partitions:
            seen[p.group] = max(p.updated_at, seen.get(p.group, p.updated_at))
        now = timezone.now()
        for group, at in sorted(seen.items()):
            heartbeat.add_metric([group], max(0.0, (now - at).total_seconds()))
        yield heartbeat
        responses = CounterMetricFamily(
            f"{PREFIX}_api_responses",
            "HTTP responses of the web processes, by status and error code",
            labels=["status", "code"],
        )
        for (name, label), value in sorted(counters.items()):
            if name == response_counts.NAME:
                status, _, code = label.partition(":")
                responses.add_metric([status, code], value)
        yield responses
        degraded = CounterMetricFamily(
            f"{PREFIX}_degraded",
            "Outages of a dependency met by a process (once per outage)",
            labels=["event"],
        )
        for (name, label), value in sorted(counters.items()):
            if name == DEGRADED_COUNTER:
                degraded.add_metric([label], value)
        yield degraded
        yield GaugeMetricFamily(
            f"{PREFIX}_invalid_records", "Undecodable records stored", value=view.invalid_records
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_record_conflicts", "Conflicting records stored", value=view.conflicts
        )


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


class MetricsView(APIView):
    """Prometheus text format; urls.py requires an API credential (or a staff session)."""

    schema = None  # not part of the REST API's OpenAPI description

    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
