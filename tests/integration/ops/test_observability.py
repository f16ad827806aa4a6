"""Health, readiness, metrics, the dashboard and a submission's trace, on real services."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from commitlog.relay.writer import process_writer
from commitlog.tasks import relay_outbox_task
from tests.support.bodies import make_dag, submission_body
from tests.support.flow import consume_to_end

pytestmark = pytest.mark.django_db(transaction=True)


def metric(text: str, name: str, **labels: str) -> float:
    label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(f"{name}{{{label_text}}}" if labels else name) + r" ([0-9.e+-]+)$"
    found = re.search(pattern, text, flags=re.MULTILINE)
    assert found is not None, f"{name} {labels} not in metrics"
    return float(found.group(1))


def test_healthz_is_public_and_minimal() -> None:
    response = APIClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_and_broker(commitlog: CommitLogSettings, settings: Any) -> None:
    ready = APIClient().get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "commitlog_broker": "ok"}

    settings.COMMITLOG_BOOTSTRAP = "127.0.0.1:1"
    not_ready = APIClient().get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["commitlog_broker"] == "unavailable"

    settings.COMMITLOG_BOOTSTRAP = ""
    disabled = APIClient().get("/readyz")
    assert disabled.status_code == 200
    assert disabled.json()["checks"]["commitlog_broker"] == "disabled"


def test_metrics_need_a_credential() -> None:
    assert APIClient().get("/metrics").status_code == 401


def test_metrics_dashboard_and_trace_follow_submissions_through_the_system(
    commitlog: CommitLogSettings, api: APIClient, admin_client: Any
) -> None:
    before = api.get("/metrics").content.decode()
    assert metric(before, "controlplane_outbox_rows", state="pending") == 0

    ids = [
        api.post("/strategies", submission_body(make_dag(f"m{i}")), format="json").json()[
            "strategy_id"
        ]
        for i in range(2)
    ]
    pending = api.get("/metrics").content.decode()
    assert metric(pending, "controlplane_outbox_rows", state="pending") == 2
    assert metric(pending, "controlplane_outbox_oldest_pending_age_seconds") > 0
    assert metric(pending, "controlplane_submissions", status="accepted") == 2

    try:
        assert relay_outbox_task()["published"] == 2
    finally:
        process_writer.close()
    published = api.get("/metrics").content.decode()
    assert metric(published, "controlplane_outbox_rows", state="published") == 2
    assert metric(published, "controlplane_outbox_oldest_pending_age_seconds") == 0
    assert metric(published, "controlplane_relay_rows_total", outcome="published") == 2
    assert metric(published, "controlplane_relay_batch_duration_seconds_count") == 1

    consume_to_end(commitlog)
    recorded = api.get("/metrics").content.decode()
    assert metric(recorded, "controlplane_submissions", status="recorded") == 2
    assert metric(recorded, "controlplane_consumer_records_total", outcome="applied") == 2
    lags = re.findall(r"^controlplane_consumer_lag\{.*\} ([0-9.]+)$", recorded, flags=re.MULTILINE)
    assert lags
    assert all(float(lag) == 0 for lag in lags)

    dashboard = admin_client.get("/admin/dashboard/").content.decode()
    assert 'data-metric="submissions-recorded">2<' in dashboard
    assert 'data-metric="outbox-published">2<' in dashboard
    assert "lag 0" in dashboard
    index = admin_client.get("/admin/").content.decode()
    assert 'id="cp-overview"' in index

    page = admin_client.get(f"/admin/controlplane/strategysubmission/{ids[0]}/change/").content
    html = page.decode()
    for step in ("accepted", "outbox row", "published to Kafka", "read back by the consumer"):
        assert step in html
    assert f"{commitlog.commitlog_topic} partition" in html
    assert "not yet" not in html


def _responses(status: str, code: str) -> float:
    from controlplane.ops.metrics import render_metrics

    sample = f'controlplane_api_responses_total{{code="{code}",status="{status}"}} '
    lines = [line for line in render_metrics().decode().splitlines() if line.startswith(sample)]
    return float(lines[0].split()[-1]) if lines else 0.0


@pytest.mark.django_db
def test_responses_are_counted_by_status_and_code_in_metrics(api: APIClient, settings: Any) -> None:
    settings.METRICS_FLUSH_SECONDS = 0  # every response adds to the shared counters at once
    assert api.get("/health").status_code == 200  # and whatever earlier tests left unsaved
    before = _responses("422", "E_INVALID_REQUEST"), _responses("404", "E_NOT_FOUND")
    assert api.post("/strategies", {}, format="json").status_code == 422
    assert api.post("/strategies", {}, format="json").status_code == 422
    assert api.get("/no/such/path").status_code == 404
    after = _responses("422", "E_INVALID_REQUEST"), _responses("404", "E_NOT_FOUND")
    assert (after[0] - before[0], after[1] - before[1]) == (2.0, 1.0)
    assert _responses("200", "") >= 1.0
