"""Every changelist costs the same at any table size, with each of its filters, its
search and its export: no filter lists its choices with a DISTINCT over the table, and
no count reads every row."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from config.adminkit.filters import choice_queries
from config.adminkit.window import WindowedFilter
from controlplane.admin import lookups
from tests.support.admin_pages import ADMIN_PAGES
from tests.support.bodies import make_dag, submission_body
from tests.support.history_rows import seed_history_rows
from tests.support.sql_audit import HISTORY_TABLES, history_reads

pytestmark = pytest.mark.django_db
EXPORTED = {"strategysubmission", "rebalancebatch", "outboxevent"}
UNFILTERED: set[str] = set()  # changelists without filters (none today)
# The filters on columns without an index, by changelist: searched among the latest rows.
WINDOWED = {
    "strategysubmission": {"status", "downgraded", "downgrade reason"},
    "rebalancebatch": {"status", "scope", "mode", "shared account"},
    "outboxevent": {"last error"},
    "consumedrecord": {"rebuilt"},
}


@pytest.fixture
def some_history(api: APIClient) -> None:
    api.post("/strategies", submission_body(make_dag("a", "b")), format="json")
    api.post(
        "/rebalancing/batches",
        {"world_id": "alpha", "scope": "per_world", "orders": [{"symbol": "A", "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="retry-1",
    )


def _filter_choices(client: Client, path: str) -> list[str]:
    """The query string of every choice of every filter the changelist offers."""
    by_filter = choice_queries(client.get(path).context["cl"])
    return sorted({query for queries in by_filter.values() for query in queries})


def _whole_table_reads(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if isinstance(response, StreamingHttpResponse):  # an export reads while it sends
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return history_reads(queries.captured_queries)


CHANGELISTS = [p for p in ADMIN_PAGES if p != "/admin/"]
EXPORTS = [p for p in CHANGELISTS if p.rstrip("/").rsplit("/", 1)[1] in EXPORTED]


@pytest.mark.parametrize("path", CHANGELISTS)
def test_a_changelist_reads_no_whole_table_with_any_filter(
    admin_client: Client, some_history: None, path: str
) -> None:
    choices = _filter_choices(admin_client, path)
    assert choices or path in UNFILTERED, "a changelist with filters offers choices"
    offenders = {
        query: found
        for query in ["", *choices]
        if (found := _whole_table_reads(admin_client, f"{path}{query}"))
    }
    assert offenders == {}


@pytest.mark.parametrize("path", EXPORTS)
def test_an_export_reads_no_whole_table_with_any_filter(
    admin_client: Client, some_history: None, path: str
) -> None:
    offenders = {
        (kind, query): found
        for query in ["", *_filter_choices(admin_client, path)]
        for kind in ("csv", "json")
        if (found := _whole_table_reads(admin_client, f"{path}export/{kind}/{query}"))
    }
    assert offenders == {}


@pytest.mark.parametrize("path", CHANGELISTS)
def test_a_search_reads_no_whole_table(admin_client: Client, some_history: None, path: str) -> None:
    # An id, a key, a world, an Idempotency-Key, any text: each an index lookup.
    for term in ("alpha", "ingest:0", "12", "retry-1", "x y"):
        assert _whole_table_reads(admin_client, f"{path}?q={term}") == [], term


def test_the_audit_sees_a_distinct_and_an_unbounded_count() -> None:
    seen = [
        {"sql": 'SELECT DISTINCT "commitlog_outboxevent"."event" FROM "commitlog_outboxevent"'},
        {"sql": 'SELECT COUNT(*) AS "__count" FROM "controlplane_rebalancebatch"'},
        {"sql": 'SELECT COUNT(*) FROM (SELECT 1 FROM "commitlog_outboxevent" LIMIT 100) s'},
    ]
    assert history_reads(seen) == [seen[0]["sql"], seen[1]["sql"]]


def _model(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def _windowed_choices(client: Client, path: str) -> dict[str, list[str]]:
    """The choices of the changelist's windowed filters, by title."""
    changelist = client.get(path).context["cl"]
    by_filter = choice_queries(changelist)
    return {
        str(spec.title): by_filter[str(spec.title)][1:]  # not "All"
        for spec in changelist.filter_specs
        if isinstance(spec, WindowedFilter)
    }


@pytest.mark.parametrize("path", CHANGELISTS)
def test_the_filters_on_columns_without_an_index_are_windowed(
    admin_client: Client, some_history: None, path: str
) -> None:
    assert set(_windowed_choices(admin_client, path)) == WINDOWED.get(_model(path), set())


def _rows_read(plan: dict[str, Any]) -> int:
    """Rows the scans of history tables read in an EXPLAIN ANALYZE plan: those returned
    and those a filter removed, in every loop."""
    own = 0
    if plan.get("Relation Name") in HISTORY_TABLES:
        seen = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
        own = (seen + plan.get("Rows Removed by Index Recheck", 0)) * plan["Actual Loops"]
    return own + sum(_rows_read(child) for child in plan.get("Plans", []))


def _most_rows_one_statement_reads(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    most = (0, "")
    for query in queries.captured_queries:
        sql = query["sql"]
        if not sql.startswith("SELECT") or not any(f'"{t}"' in sql for t in HISTORY_TABLES):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            (found,) = cursor.fetchone()
        plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
        most = max(most, (_rows_read(plan), sql))
    return most


WINDOW = 300
SEEDED = 5000  # well past the window: a filter that reads the history reads all of them


@pytest.mark.parametrize("path", [p for p in CHANGELISTS if _model(p) in WINDOWED])
def test_a_windowed_filter_reads_no_more_rows_than_its_window(
    admin_client: Client,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    # Rows none of the choices but the first match: the worst case, a scan for rare rows.
    seed_history_rows(SEEDED, timezone.now() - timedelta(days=1))
    settings.ADMIN_FILTER_SCAN_ROWS = WINDOW
    monkeypatch.setattr(lookups, "RECENT_ROWS", 50)  # the choices' own read, below the window
    page = 100
    for title, choices in _windowed_choices(admin_client, path).items():
        for query in choices:
            rows, sql = _most_rows_one_statement_reads(admin_client, f"{path}{query}")
            assert rows <= WINDOW + page, (title, query, rows, sql)
