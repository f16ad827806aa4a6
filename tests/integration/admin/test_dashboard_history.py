"""The dashboard's history against a real PostgreSQL and broker: the relay's run and the
consumer's batch each upsert their minute, the dashboard draws them, the prune bounds them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from commitlog.conf import CommitLogSettings
from commitlog.kafka import OutgoingRecord
from commitlog.models import ActivityMinute, OutboxEvent
from commitlog.telemetry import activity
from commitlog.telemetry.activity import RELAY, consumer_source
from commitlog.upkeep.prune import commitlog_prune
from controlplane.models import RebalanceBatch
from controlplane.records import Event
from controlplane.services.rebalancing import rebalance_submit
from tests.support.flow import consume_to_end, produce_straight, relay_all, submit_strategies
from tests.support.migrations import latest_migrations, migrate_to
from tests.support.requests import single_batch

pytestmark = pytest.mark.django_db(transaction=True)

INGEST, REBALANCE = Event.INGEST.value, Event.REBALANCE.value
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


@pytest.fixture
def fixed_minute(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The activity module's clock, stopped ten minutes ahead of now (in mid-minute), so
    that every write of the test lands in one minute and pending rows have a known age."""
    at = (timezone.now() + timedelta(minutes=10)).replace(second=30, microsecond=0)
    monkeypatch.setattr(activity, "timezone", SimpleNamespace(now=lambda: at))
    return at


def submit_batch(world: str = "w1") -> None:
    rebalance_submit(request=single_batch(world, [{"symbol": "BTC", "quantity": 1}]))


def found(pattern: str, text: str, group: int = 0) -> str:
    match = re.search(pattern, text, re.DOTALL)
    assert match is not None, pattern
    return match.group(group)


def row(source: str) -> ActivityMinute:
    return ActivityMinute.objects.get(source=source)


def test_relay_runs_upsert_one_row_for_their_minute(
    commitlog: CommitLogSettings, fixed_minute: datetime
) -> None:
    started = timezone.now()
    submit_strategies(2)
    submit_batch()
    relay_all()
    first = row(RELAY)
    assert first.minute == fixed_minute.replace(second=0)
    assert first.records == {INGEST: 2, REBALANCE: RebalanceBatch.objects.count()}
    assert (first.batches, first.failed, first.dead, first.backlog) == (1, 0, 0, 0)
    assert first.oldest_pending_s is None
    assert first.last_batch_at == fixed_minute

    submit_strategies(3, prefix="more")
    relay_all()
    # A row backing off: the next run publishes nothing and reports it as the backlog.
    submit_strategies(1, prefix="waiting")
    OutboxEvent.objects.filter(state="pending").update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    relay_all()

    again = row(RELAY)  # still one row: the three runs added up
    assert again.pk == first.pk
    assert again.records == {INGEST: 5, REBALANCE: first.records[REBALANCE]}
    assert again.batches == 2
    assert again.backlog == 1
    waiting = OutboxEvent.objects.get(state="pending")
    assert waiting.created_at >= started
    assert again.oldest_pending_s == pytest.approx(
        (fixed_minute - waiting.created_at).total_seconds()
    )


def test_consumer_batches_upsert_their_minute_with_counts_and_lag(
    commitlog: CommitLogSettings, fixed_minute: datetime
) -> None:
    submit_strategies(2)
    submit_batch()
    relay_all()
    consume_to_end(commitlog)
    source = consumer_source(commitlog.commitlog_group)
    first = row(source)
    batches = RebalanceBatch.objects.count()
    assert first.records == {INGEST: 2, REBALANCE: batches}
    assert first.batches >= 1
    assert first.lag == 0
    assert first.last_batch_at == fixed_minute

    produce_straight(commitlog, [OutgoingRecord(b"ingest:x", b"{not json")])
    submit_strategies(1, prefix="later")
    relay_all()
    consume_to_end(commitlog)

    again = row(source)
    assert again.pk == first.pk
    assert again.records == {INGEST: 3, REBALANCE: batches}
    assert again.invalid == 1
    assert again.batches > first.batches
    assert again.lag == 0
    assert ActivityMinute.objects.count() == 2  # the relay's minute and the group's


def test_dashboard_draws_the_history_with_the_flow_s_numbers(
    commitlog: CommitLogSettings, admin_client: Client
) -> None:
    submit_strategies(4)
    relay_all()
    consume_to_end(commitlog)
    submit_strategies(1, prefix="pending")  # still pending: the page's own count says 1

    page = admin_client.get("/admin/dashboard/").content.decode()

    assert '<meta http-equiv="refresh" content="15">' in page
    for chart in ("throughput", "backlog", "oldest-pending", "lag", "failures"):
        for window in ("hour", "day"):
            assert f'data-chart="{chart}-{window}"' in page
    hour = found(r'<svg class="cp-chart" data-chart="throughput-hour".*?</svg>', page)
    assert 'data-points="60"' in hour
    assert 'data-series="submissions" data-total="4"' in hour
    assert 'data-series="records" data-total="4"' in hour
    assert "<polyline" in hour or "<circle" in hour
    day = found(r'data-chart="throughput-day".*?</svg>', page)
    assert 'data-points="144"' in day
    # Ten-minute steps of the day, drawn per minute: four in one step is 0.4 a minute.
    assert 'data-series="submissions" data-total="0.4"' in day
    assert "submissions published: 4 in the last hour" in page
    assert 'data-series="backlog" data-total="0" data-peak="0"' in page  # drained at the run
    assert STAMP.fullmatch(found(r'data-metric="relay-last-batch">([^<]*)<', page, 1))
    assert STAMP.fullmatch(found(r'data-metric="consumer-last-batch">([^<]*)<', page, 1))


def test_dashboard_refresh_is_configurable(admin_client: Client, settings: Any) -> None:
    settings.DASHBOARD_REFRESH_SECONDS = 0
    page = admin_client.get("/admin/dashboard/").content.decode()
    assert 'http-equiv="refresh"' not in page
    assert "none in the last day" in page  # no activity yet
    settings.DASHBOARD_REFRESH_SECONDS = 40
    assert (
        '<meta http-equiv="refresh" content="40">'
        in admin_client.get("/admin/dashboard/").content.decode()
    )


def test_prune_drops_minutes_older_than_two_days_whatever_the_retention() -> None:
    now = timezone.now().replace(second=0, microsecond=0)
    for age in (timedelta(days=3), timedelta(days=2, hours=1), timedelta(days=1), timedelta(0)):
        ActivityMinute.objects.create(minute=now - age, source=RELAY, last_batch_at=now - age)

    run = commitlog_prune()  # the log's window is seven days

    assert run.deleted["activity minutes"] == 2
    kept = sorted(now - m for m in ActivityMinute.objects.values_list("minute", flat=True))
    assert kept == [timedelta(0), timedelta(days=1)]
    assert commitlog_prune(days=0.5).deleted["activity minutes"] == 1  # a shorter log window


def test_the_migration_creates_and_drops_the_table() -> None:
    def tables() -> list[str]:
        return connection.introspection.table_names()

    latest = latest_migrations()
    migrate_to([("commitlog", "0008_queue_table_default_autovacuum")])
    try:
        assert "commitlog_activityminute" not in tables()
    finally:
        migrate_to(latest)
    assert "commitlog_activityminute" in tables()
