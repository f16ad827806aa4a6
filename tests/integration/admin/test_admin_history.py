"""Admin pages and counts that do not read the history: estimated totals, index searches,
and traces that still say something once the bookkeeping is pruned."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from commitlog.conf import CommitLogSettings
from commitlog.upkeep.prune import commitlog_prune
from config.adminkit import estimates
from config.adminkit.estimates import counted
from controlplane.admin.dashboard.overview import overview
from controlplane.admin.model_admins import StrategySubmissionAdmin
from controlplane.admin.site import ControlPlaneAdminSite
from controlplane.models import StrategySubmission
from tests.support.flow import consume_to_end, relay_all, submit_strategies

CHANGELIST = "/admin/controlplane/strategysubmission/"


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE controlplane_strategysubmission")


@pytest.mark.django_db
def test_a_large_table_is_counted_from_the_planner_a_small_one_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    submit_strategies(30)
    assert counted(StrategySubmission.objects.all()) == (30, False)
    analyze()
    monkeypatch.setattr(estimates, "EXACT_BELOW", 0)  # as if the table were large
    with CaptureQueriesContext(connection) as queries:
        total, estimated = counted(StrategySubmission.objects.all())
    assert (total, estimated) == (30, True)  # ANALYZE saw every row of so small a table
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    view = overview()
    assert view.estimated
    assert view.submissions == {"accepted": 30, "published": 0, "recorded": 0}


@pytest.mark.django_db
def test_the_changelist_of_a_large_table_runs_no_count(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = submit_strategies(3)
    analyze()
    monkeypatch.setattr(estimates, "EXACT_BELOW", 0)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not [q for q in counts if "controlplane_strategysubmission" in q]
    assert all(strategy_id in response.content.decode() for strategy_id in ids)


def _plan(queryset: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # an index, if there is one to use
        try:
            return str(queryset.explain())
        finally:
            cursor.execute("RESET enable_seqscan")


@pytest.mark.django_db
@pytest.mark.parametrize("part", ["id", "hash", "world"])
def test_admin_search_finds_by_prefix_through_an_index(part: str, rf: Any) -> None:
    submit_strategies(3)
    target = StrategySubmission.objects.order_by("strategy_id")[1]
    term = {
        # Ids begin with their time: ids made in one millisecond share 13 characters.
        "id": str(target.strategy_id)[:18],
        "hash": target.dag_hash[:10],
        "world": "w1",
    }[part]
    model_admin = StrategySubmissionAdmin(StrategySubmission, ControlPlaneAdminSite())
    found, _ = model_admin.get_search_results(
        rf.get(CHANGELIST), StrategySubmission.objects.all(), term
    )
    expected = (
        {target.pk}
        if part != "world"
        else set(StrategySubmission.objects.values_list("pk", flat=True))
    )
    assert set(found.values_list("pk", flat=True)) == expected
    assert "Seq Scan" not in _plan(found)


@pytest.mark.django_db(transaction=True)
def test_the_trace_of_a_pruned_submission_still_shows_its_position(
    commitlog: CommitLogSettings, admin_client: Client
) -> None:
    (strategy_id,) = submit_strategies(1)
    relay_all()
    consume_to_end(commitlog, heartbeat_s=0)
    commitlog_prune(days=0)
    row = StrategySubmission.objects.get()
    page = admin_client.get(f"{CHANGELIST}{strategy_id}/change/").content.decode()
    assert "dedup mark pruned" in page
    assert f"partition {row.commitlog_partition}, offset {row.commitlog_offset}" in page
    assert "pruned once read back" in page
