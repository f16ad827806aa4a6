"""Admin search by the first characters of an id (strategies, batches, outbox rows and
consumed records): the right rows, found through an index, never a scan of the table."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import Model, QuerySet
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent, RecordConflict
from controlplane.models import RebalanceBatch, StrategySubmission
from tests.support.bodies import make_dag, submission_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def ids(api: APIClient) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, dag in (("first", make_dag("a")), ("second", make_dag("b"))):
        response = api.post("/strategies", submission_body(dag), format="json")
        found[name] = response.json()["strategy_id"]
    for world in ("alpha", "beta"):
        body = {"world_id": world, "scope": "per_world", "orders": [{"symbol": "A", "qty": 1}]}
        found[world] = api.post("/rebalancing/batches", body, format="json").json()["batches"][0][
            "batch_id"
        ]
    return found


def _search(model: type[Model], term: str) -> QuerySet[Any]:
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    found, may_have_duplicates = model_admin.get_search_results(
        request, model_admin.get_queryset(request), term
    )
    assert not may_have_duplicates
    return found


def _plan(queryset: QuerySet[Any]) -> str:
    """The plan with sequential scans priced out: one is left only where no index serves."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    try:
        return queryset.explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = on")


def test_batches_are_found_by_the_first_characters_of_their_id(ids: dict[str, str]) -> None:
    alpha, beta = ids["alpha"], ids["beta"]
    assert [b.pk for b in _search(RebalanceBatch, alpha[: len("alpha:") + 4])] == [alpha]
    assert [b.pk for b in _search(RebalanceBatch, "be")] == [beta]
    assert [b.pk for b in _search(RebalanceBatch, beta)] == [beta]
    assert {b.pk for b in _search(RebalanceBatch, "alpha")} == {alpha}  # prefix or world id
    assert not _search(RebalanceBatch, "alpha:zz").exists()
    assert not _search(RebalanceBatch, "%").exists()  # LIKE's wildcards are literal
    assert not _search(RebalanceBatch, "_lpha").exists()
    assert "Seq Scan" not in _plan(_search(RebalanceBatch, "alpha:ab"))


def test_strategies_are_found_by_the_first_characters_of_their_id(ids: dict[str, str]) -> None:
    first, second = ids["first"], ids["second"]
    assert [s.pk.hex for s in _search(StrategySubmission, first[:36])] == [first.replace("-", "")]
    both = _search(StrategySubmission, first[:8])  # v7 ids of one moment share their start
    assert {str(s.pk) for s in both} == {first, second}
    assert "Seq Scan" not in _plan(_search(StrategySubmission, first[:13]))


def test_outbox_rows_are_found_by_the_first_characters_of_an_id_or_key(
    ids: dict[str, str],
) -> None:
    alpha, first = ids["alpha"], ids["first"]
    by_batch = _search(OutboxEvent, alpha[:10])
    assert [row.aggregate_id for row in by_batch] == [alpha]
    by_key = _search(OutboxEvent, f"ingest:{first[:30]}")
    assert [row.aggregate_id for row in by_key] == [first]
    row = OutboxEvent.objects.get(aggregate_id=first)
    assert [r.pk for r in _search(OutboxEvent, str(row.pk))] == [row.pk]
    assert "Seq Scan" not in _plan(_search(OutboxEvent, alpha[:10]))


def test_conflicts_are_found_by_the_first_characters_of_their_record(
    ids: dict[str, str],
) -> None:
    alpha = ids["alpha"]
    RecordConflict.objects.create(
        key=f"rebalance:{alpha}",
        event="gateway.rebalance_batch",
        record_id=alpha,
        reason="other content",
        value=b"{}",
        value_sha256="b" * 64,
        topic="t",
        partition=0,
        offset=1,
    )
    assert [c.record_id for c in _search(RecordConflict, alpha[:8])] == [alpha]
    assert not _search(RecordConflict, "beta").exists()
    assert "Seq Scan" not in _plan(_search(RecordConflict, alpha[:8]))


def test_the_batch_list_page_searches_by_prefix(admin_client: Client, ids: dict[str, str]) -> None:
    page = admin_client.get("/admin/controlplane/rebalancebatch/", {"q": ids["alpha"][:9]})
    html = page.content.decode()
    assert ids["alpha"] in html
    assert ids["beta"] not in html
