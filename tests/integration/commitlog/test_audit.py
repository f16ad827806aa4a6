"""manage.py audit_commitlog against a real PostgreSQL and Kafka-protocol broker: a clean
flow passes with exit 0; each kind of disagreement, made on purpose, is counted and exits
1; a broker away exits 2; the last run's summary is stored and on the dashboard."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from commitlog.kafka import OutgoingRecord
from commitlog.models import AuditRun, OutboxEvent
from controlplane.models import RebalanceBatch, StrategySubmission
from devstack.kafka import EmbeddedKafka
from tests.support.flow import consume_to_end, produce_straight, relay_all, submit_strategies

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Audit:
    status: int
    out: str
    err: str
    run: AuditRun


def audit(*args: str) -> Audit:
    out, err = StringIO(), StringIO()
    status = 0
    try:
        call_command("audit_commitlog", *args, stdout=out, stderr=err)
    except CommandError as exc:
        status = exc.returncode
        err.write(str(exc))
    run = AuditRun.objects.order_by("-id").first()
    assert run is not None
    return Audit(status, out.getvalue(), err.getvalue(), run)


def counts(run: AuditRun) -> dict[str, int]:
    names = ("records", "matched", "pending", "missing", "unknown", "conflicts", "differs")
    return {name: getattr(run, name) for name in names}


def clean(**changed: int) -> dict[str, int]:
    """The counts of the flow's five records all matched, with `changed` ones."""
    return {**dict.fromkeys(("pending", "missing", "unknown", "conflicts", "differs"), 0),
            "records": 5, "matched": 5, **changed}  # fmt: skip


@pytest.fixture
def flowed(commitlog: CommitLogSettings, api: APIClient) -> list[str]:
    """Four submissions and a batch through the relay and the consumer: all recorded."""
    ids = submit_strategies(4, prefix="audit")
    api.post(
        "/rebalancing/batches",
        {"world_id": "alpha", "scope": "per_world", "orders": [{"symbol": "A", "quantity": 1}]},
        format="json",
    )
    relay_all()
    consume_to_end(commitlog)
    assert set(StrategySubmission.objects.values_list("status", flat=True)) == {"recorded"}
    return ids


def ingest_value(strategy_id: str, note: str) -> bytes:
    payload = {"event": "gateway.ingest", "note": note}
    return json.dumps(["gateway.ingest", 1, strategy_id, payload]).encode()


def test_a_clean_flow_passes_with_exit_0(flowed: list[str]) -> None:
    result = audit("--from-beginning")
    assert result.status == 0, result.err
    assert counts(result.run) == clean()
    assert result.run.agrees
    assert result.run.since is None
    assert "5 records read (the whole log): 5 matched" in result.out
    # Progress on stderr: the rate and where each partition stands, ending at its end.
    last = result.err.strip().splitlines()[-1]
    assert "records/s" in last
    ends = {int(p): span[1] for p, span in result.run.positions.items()}
    assert sum(ends.values()) >= 5
    for partition, end in ends.items():
        assert f"{partition}: {end}/{end}" in last


def test_a_record_unknown_to_the_database_is_counted(
    flowed: list[str], commitlog: CommitLogSettings
) -> None:
    stranger = str(uuid.uuid4())
    produce_straight(
        commitlog, [OutgoingRecord(f"ingest:{stranger}".encode(), ingest_value(stranger, "x"))]
    )
    result = audit("--from-beginning")
    assert result.status == 1
    assert counts(result.run) == clean(records=6, unknown=1)
    assert f"unknown: ingest:{stranger}" in result.out
    assert "1 disagreement(s)" in result.err


def test_a_conflicting_record_is_counted(flowed: list[str], commitlog: CommitLogSettings) -> None:
    key = f"ingest:{flowed[0]}"
    produce_straight(commitlog, [OutgoingRecord(key.encode(), ingest_value(flowed[0], "other"))])
    result = audit("--from-beginning")
    assert result.status == 1
    assert counts(result.run) == clean(records=6, conflicts=1)
    assert f"conflict: {key}" in result.out


def test_the_same_record_twice_is_no_conflict(
    flowed: list[str], commitlog: CommitLogSettings
) -> None:
    row = OutboxEvent.objects.get(aggregate_id=flowed[0])
    produce_straight(commitlog, [OutgoingRecord(row.key.encode(), bytes(row.value))])
    result = audit("--from-beginning")
    assert result.status == 0
    assert counts(result.run) == clean(records=6, matched=6)


def test_a_row_recorded_from_other_bytes_is_counted(flowed: list[str]) -> None:
    StrategySubmission.objects.filter(pk=flowed[1]).update(commitlog_sha256="0" * 64)
    result = audit("--from-beginning")
    assert result.status == 1
    assert counts(result.run) == clean(matched=4, differs=1)
    assert f"differs: ingest:{flowed[1]}" in result.out


def recorded_batch_never_produced(submitted_at: datetime) -> RebalanceBatch:
    return RebalanceBatch.objects.create(
        batch_id=f"alpha:{uuid.uuid4().hex}",
        world_id="alpha",
        scope="per_world",
        orders=[{"symbol": "A", "quantity": 1}],
        total_orders=1,
        reduce_only_orders=0,
        reduce_only_ratio=0.0,
        status="recorded",
        submitted_at=submitted_at,
        published_at=submitted_at,
        recorded_at=submitted_at,
        commitlog_partition=0,
        commitlog_offset=0,
        commitlog_sha256="1" * 64,
    )


def test_a_recorded_row_missing_from_the_log_is_counted(flowed: list[str]) -> None:
    ghost = recorded_batch_never_produced(timezone.now() - timedelta(minutes=1))
    result = audit("--from-beginning")
    assert result.status == 1
    assert counts(result.run) == clean(missing=1)
    assert f"missing: rebalance:{ghost.batch_id}" in result.out


def test_since_reads_and_compares_the_window_only(
    flowed: list[str], commitlog: CommitLogSettings
) -> None:
    since = timezone.now()
    # Submitted before the window: neither read nor expected in it.
    recorded_batch_never_produced(since - timedelta(minutes=1))
    (later,) = submit_strategies(1, prefix="window")
    relay_all()
    consume_to_end(commitlog)
    result = audit("--since", since.astimezone(UTC).replace(tzinfo=None).isoformat())
    assert result.status == 0, result.out + result.err
    assert counts(result.run) == clean(records=1, matched=1)
    assert result.run.since == since
    # In the window: a recorded row whose record was never produced.
    ghost = recorded_batch_never_produced(since + timedelta(microseconds=1))
    result = audit("--since", since.isoformat())
    assert (result.status, result.run.missing) == (1, 1)
    assert ghost.batch_id in result.out
    assert later not in result.out


def test_the_audit_reads_rows_by_key_or_through_the_window_only(
    flowed: list[str], commitlog: CommitLogSettings
) -> None:
    since = timezone.now() - timedelta(minutes=5)
    with CaptureQueriesContext(connection) as queries:
        result = audit("--since", since.isoformat())
    assert result.status == 0, result.out
    reads = [q["sql"] for q in queries.captured_queries if "controlplane_" in q["sql"]]
    assert len(reads) >= 3  # the two events' rows by key, and their windows
    for sql in reads:
        by_key = re.search(r'"(strategy_id|batch_id)" IN \(', sql)
        window = '"submitted_at" >= ' in sql and '"submitted_at" < ' in sql
        assert by_key or window, sql


def test_a_broker_away_exits_2(private_broker: EmbeddedKafka, settings: Any) -> None:
    submit_strategies(1, prefix="away")
    relay_all()
    private_broker.stop()
    result = audit("--from-beginning", "--timeout", "1")
    assert result.status == 2
    assert "the log was not read to its end" in result.err
    assert result.run.error
    assert not result.run.agrees


def test_the_last_run_is_on_the_dashboard(flowed: list[str], admin_client: Client) -> None:
    html = admin_client.get("/admin/dashboard/").content.decode()
    assert 'id="cp-audit"' in html
    assert "No audit has run yet" in html
    StrategySubmission.objects.filter(pk=flowed[1]).update(commitlog_sha256="0" * 64)
    audit("--from-beginning")
    html = admin_client.get("/admin/dashboard/").content.decode()
    assert 'data-audit="differs">1<' in html
    assert 'data-audit="matched">4<' in html
    assert 'data-audit="verdict">1 disagreement' in html
