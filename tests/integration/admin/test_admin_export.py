"""Export CSV / JSON from the changelists: the rows the list's filters and search select,
streamed in keyset chunks (as many statements per chunk at any size, no count), cells a
spreadsheet would run defused."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent
from config.adminkit import export
from config.logs import FORMAT, KeyValueFormatter
from controlplane.models import RebalanceBatch, StrategySubmission
from tests.support.bodies import make_dag, submission_body
from tests.support.logs import logfmt_fields
from tests.support.sql_audit import history_reads

pytestmark = pytest.mark.django_db
SUBMISSIONS = "/admin/controlplane/strategysubmission/"
BATCHES = "/admin/controlplane/rebalancebatch/"
OUTBOX = "/admin/commitlog/outboxevent/"


def _batch(api: APIClient, world: str, **extra: Any) -> str:
    body = {"world_id": world, "scope": "per_world", "orders": [{"symbol": "A", "quantity": 1}]}
    response = api.post("/rebalancing/batches", {**body, **extra}, format="json")
    assert response.status_code == 202, response.content
    batch_id: str = response.json()["batches"][0]["batch_id"]
    return batch_id


def _submit(api: APIClient, name: str, worlds: list[str]) -> str:
    body = submission_body(make_dag(f"{name}-a", f"{name}-b"), world_ids=worlds)
    response = api.post("/strategies", body, format="json")
    assert response.status_code == 202, response.content
    strategy_id: str = response.json()["strategy_id"]
    return strategy_id


def _export(client: Client, changelist: str, kind: str, query: str = "") -> Any:
    response = client.get(f"{changelist}export/{kind}/{query}")
    assert response.status_code == 200, response
    assert response.streaming
    return response


def _csv_rows(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def _json(response: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(b"".join(response.streaming_content))
    return found


def test_an_export_holds_exactly_the_rows_the_filters_and_search_select(
    admin_client: Client, api: APIClient
) -> None:
    alpha = [_submit(api, f"a{i}", ["alpha", "beta"]) for i in range(3)]
    _submit(api, "g", ["gamma"])
    batches = [_batch(api, "alpha") for _ in range(2)]
    _batch(api, "gamma")

    response = _export(admin_client, SUBMISSIONS, "csv", "?world=beta")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="strategysubmission-')
    assert disposition.endswith('.csv"')
    rows = _csv_rows(response)
    assert sorted(r["strategy_id"] for r in rows) == sorted(alpha)
    assert rows[0]["world_ids"] == '["alpha", "beta"]'
    assert list(rows[0])[:2] == ["strategy_id", "status"]

    searched = _json(_export(admin_client, SUBMISSIONS, "json", f"?q={alpha[1]}"))
    assert [r["strategy_id"] for r in searched["rows"]] == [alpha[1]]
    assert searched["truncated"] is False

    response = _export(admin_client, BATCHES, "json", "?world_id=alpha&status__exact=accepted")
    assert response["Content-Type"] == "application/json"
    assert sorted(r["batch_id"] for r in _json(response)["rows"]) == sorted(batches)

    outbox = _csv_rows(_export(admin_client, OUTBOX, "csv", "?event=gateway.rebalance"))
    assert len(outbox) == 3
    assert {r["event"] for r in outbox} == {"gateway.rebalance"}


def test_the_changelist_links_to_its_export_with_its_filters(
    admin_client: Client, api: APIClient
) -> None:
    _batch(api, "alpha")
    page = admin_client.get(f"{BATCHES}?world_id=alpha&q=alpha").content.decode()
    assert f'href="{BATCHES}export/csv/?world_id=alpha&amp;q=alpha"' in page
    assert f'href="{BATCHES}export/json/?world_id=alpha&amp;q=alpha"' in page


def test_cells_a_spreadsheet_would_run_are_defused(admin_client: Client, api: APIClient) -> None:
    for mode in ("=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "plain"):
        _batch(api, "alpha", mode=mode)
    modes = {r["mode"] for r in _csv_rows(_export(admin_client, BATCHES, "csv"))}
    assert modes == {"'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "plain"}
    # JSON is data, not a spreadsheet: as stored.
    stored = {r["mode"] for r in _json(_export(admin_client, BATCHES, "json"))["rows"]}
    assert stored == {"=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "plain"}


def test_an_export_stops_at_the_row_limit_and_says_so(
    admin_client: Client, api: APIClient, settings: Any
) -> None:
    for _ in range(4):
        _batch(api, "alpha")
    settings.ADMIN_EXPORT_MAX_ROWS = 3
    cut = _json(_export(admin_client, BATCHES, "json"))
    assert (len(cut["rows"]), cut["max_rows"], cut["truncated"]) == (3, 3, True)
    assert len(_csv_rows(_export(admin_client, BATCHES, "csv"))) == 3
    settings.ADMIN_EXPORT_MAX_ROWS = 4
    whole = _json(_export(admin_client, BATCHES, "json"))
    assert (len(whole["rows"]), whole["truncated"]) == (4, False)


def _statements(client: Client, changelist: str, kind: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = _export(client, changelist, kind)
        rows = len(_csv_rows(response)) if kind == "csv" else len(_json(response)["rows"])
    sqls = [q["sql"] for q in queries.captured_queries]
    assert history_reads(queries.captured_queries) == []
    assert not [s for s in sqls if " OFFSET " in s]
    return rows, sqls


@pytest.mark.parametrize(
    ("changelist", "model"),
    [(SUBMISSIONS, StrategySubmission), (BATCHES, RebalanceBatch), (OUTBOX, OutboxEvent)],
)
def test_an_export_costs_one_statement_per_chunk_whatever_the_rows(
    admin_client: Client,
    api: APIClient,
    monkeypatch: Any,
    settings: Any,
    changelist: str,
    model: Any,
) -> None:
    monkeypatch.setattr(export, "CHUNK_ROWS", 4)
    settings.METRICS_FLUSH_SECONDS = 10**9  # no flush of the response counts in between
    table = f'FROM "{model._meta.db_table}"'

    def chunks(rows: int) -> int:  # a full last chunk is followed by an empty one
        return math.floor(rows / 4) + 1

    counts: list[tuple[int, int, list[str]]] = []
    for extra in (5, 8):  # 5, then 13 rows
        for i in range(extra):
            _batch(api, f"w{len(counts)}x{i}")
            _submit(api, f"s{len(counts)}x{i}", ["alpha"])
        rows, sqls = _statements(admin_client, changelist, "csv")
        over_table = [s for s in sqls if table in s]
        assert all(" LIMIT " in s for s in over_table)
        counts.append((rows, len(sqls) - chunks(rows), sqls))
    (few, few_fixed, few_sqls), (many, many_fixed, many_sqls) = counts
    # A later chunk starts where the last one ended, along the index of its order.
    later = [s for s in many_sqls if table in s and " LIMIT " in s][-1]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a scan only where no index serves
        cursor.execute(f"EXPLAIN {later}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    bound = "(id >" if model is OutboxEvent else "(submitted_at <="
    assert f"Index Cond: {bound}" in plan, plan
    # The outbox holds a row per submission and per batch.
    assert (few, many) == ((10, 26) if model is OutboxEvent else (5, 13))
    assert few_fixed == many_fixed, "\n".join([*few_sqls, "----", *many_sqls])


def test_an_export_needs_view_permission_and_is_logged_with_its_actor(
    admin_client: Client, client: Client, api: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    _batch(api, "alpha")
    staff = User.objects.create_user("clerk", is_staff=True)
    client.force_login(staff)
    assert client.get(f"{BATCHES}export/csv/").status_code == 403
    assert admin_client.get(f"{BATCHES}export/xml/").status_code == 404
    caplog.set_level(logging.INFO, logger="config.adminkit.export_admin")
    response = _export(admin_client, BATCHES, "csv", "?world_id=alpha")
    assert "no-store" in response["Cache-Control"]
    (record,) = [r for r in caplog.records if "admin_export" in r.getMessage()]
    fields = logfmt_fields(KeyValueFormatter(FORMAT).format(record))
    assert (fields["model"], fields["format"], fields["actor"]) == (
        "controlplane.rebalancebatch",
        "csv",
        "admin",
    )
    assert fields["query"] == "world_id=alpha"  # one value, quoted by the log format
