"""A database made by the previous release (the last migrations it shipped), holding a
submission, a batch and their outbox rows written with that release's models, migrates
forward and the service reads it: the status endpoints answer and the relay publishes
the pending rows."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent, OutboxState
from commitlog.conf import CommitLogSettings, commitlog_settings
from controlplane.models import SubmissionStatus
from controlplane.selectors import batch_status, strategy_status
from tests.support.bodies import crc_of
from tests.support.flow import relay_all
from tests.support.migrations import latest_migrations, migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

# The app labels and migration names outlived the reorganisation of the code.
PREVIOUS_RELEASE = [
    ("controlplane", "0007_credential_attribution_and_limits"),
    ("commitlog", "0009_activity_minute"),
]
NODES = ["old-a", "old-b"]


def _historical_rows(apps: Any) -> tuple[str, str]:
    """A submission, a batch and an outbox row for each, as that release's models hold them."""
    submission_model = apps.get_model("controlplane", "StrategySubmission")
    batch_model = apps.get_model("controlplane", "RebalanceBatch")
    outbox_model = apps.get_model("commitlog", "OutboxEvent")
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    dag = {"nodes": [{"node_id": node} for node in NODES]}
    submission = submission_model.objects.create(
        strategy_id=uuid.uuid4(),
        dag_hash="0" * 64,
        dag=dag,
        node_ids_crc32=crc_of(NODES),
        insert_sentinel=False,
        world_ids=["w1"],
        world_id="w1",
        execution_domain="live",
        compute_context={"world_id": "w1", "execution_domain": "live"},
        meta={"execution_domain": "live"},
        submitted_at=now,
    )
    batch = batch_model.objects.create(
        batch_id=f"w1:{uuid.uuid4().hex}",
        world_id="w1",
        scope="per_world",
        orders=[{"symbol": "AAPL", "quantity": 1}],
        total_orders=1,
        reduce_only_orders=0,
        reduce_only_ratio=0.0,
        submitted_at=now,
    )
    for event, aggregate_id in (
        ("gateway.ingest", str(submission.strategy_id)),
        ("gateway.rebalance", batch.batch_id),
    ):
        value = [event, 1764504000000, aggregate_id, {"event": event}]
        outbox_model.objects.create(
            event=event,
            aggregate_id=aggregate_id,
            key=aggregate_id,
            value=json.dumps(value).encode(),
        )
    return str(submission.strategy_id), batch.batch_id


def test_a_database_of_the_previous_release_migrates_forward_and_is_read(
    commitlog: CommitLogSettings, api: APIClient
) -> None:
    latest = latest_migrations()
    migrate_to(PREVIOUS_RELEASE)
    try:
        old_apps = MigrationExecutor(connection).loader.project_state(PREVIOUS_RELEASE).apps
        strategy_id, batch_id = _historical_rows(old_apps)
    finally:
        migrate_to(latest)

    assert strategy_status(strategy_id=strategy_id) == SubmissionStatus.ACCEPTED
    batch = batch_status(batch_id=batch_id)
    assert batch is not None
    assert (batch.status, batch.world_id) == (SubmissionStatus.ACCEPTED, "w1")
    answer = api.get(f"/strategies/{strategy_id}/status")
    assert (answer.status_code, answer.json()) == (200, {"status": "accepted"})
    assert api.get(f"/rebalancing/batches/{batch_id}").json()["status"] == "accepted"

    relay_all()  # the rows written before the upgrade are published like any other
    states = set(OutboxEvent.objects.values_list("aggregate_id", "state"))
    assert states == {(strategy_id, OutboxState.PUBLISHED), (batch_id, OutboxState.PUBLISHED)}
    assert api.get(f"/strategies/{strategy_id}/status").json() == {"status": "published"}
    assert api.get(f"/rebalancing/batches/{batch_id}").json()["status"] == "published"
