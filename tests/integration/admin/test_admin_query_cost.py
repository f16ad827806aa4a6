"""Every changelist costs the same at any table size, with each of its filters, its
search and its export: no filter lists its choices with a DISTINCT over the table, and
no count reads every row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from config.adminkit.filters import choice_queries
from tests.support.admin_pages import ADMIN_PAGES
from tests.support.bodies import make_dag, submission_body
from tests.support.sql_audit import history_reads

pytestmark = pytest.mark.django_db
EXPORTED = {"strategysubmission", "rebalancebatch", "outboxevent"}
UNFILTERED: set[str] = set()  # changelists without filters (none today)


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
