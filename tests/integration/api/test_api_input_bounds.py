"""Ids with control or format characters, numbers beyond a double and requests beyond the
per-request caps: each a 422 naming the field, nothing written (real PostgreSQL)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent
from controlplane.models import RebalanceBatch, StrategySubmission
from tests.support.bodies import submission_body

pytestmark = pytest.mark.django_db

# A line feed, a right-to-left override, a zero-width space, a byte-order mark,
# a line separator, a paragraph separator, a tab and a C1 control.
UNSAFE = ["\n", "\u202e", "\u200b", "\ufeff", "\u2028", "\u2029", "\t", "\x85"]


def post_batch(api: APIClient, body: Any) -> Any:
    return api.post("/rebalancing/batches", body, format="json")


def raw_post(api: APIClient, path: str, text: str) -> Any:
    return api.post(path, text, content_type="application/json")


def assert_nothing_written() -> None:
    assert RebalanceBatch.objects.count() == 0
    assert StrategySubmission.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def assert_refused(response: Any, code: str, field: str | None) -> None:
    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["code"] == code, body
    if field is not None:  # an error of the whole request has no field list
        assert field in [error["field"] for error in body["errors"]], body
    assert_nothing_written()


def limits(settings: Any, **changes: Any) -> None:
    settings.API_LIMITS = replace(settings.API_LIMITS, **changes)


def order(**extra: Any) -> dict[str, Any]:
    return {"symbol": "AAPL", "quantity": 1, **extra}


@pytest.mark.parametrize("char", UNSAFE)
def test_a_world_id_with_a_control_or_format_character_is_refused(
    api: APIClient, char: str
) -> None:
    response = api.post("/strategies", submission_body(world_ids=[f"w{char}1"]), format="json")
    assert_refused(response, "E_INVALID_ID", "world_ids[0]")
    assert f"U+{ord(char):04X}" in response.json()["message"]


# (request body, field at fault): every id a rebalance request carries.
REBALANCE_IDS = [
    ({"world_id": "w\n1", "scope": "per_world", "orders": [order()]}, "world_id"),
    ({"world_id": "w1", "scope": "per_world", "orders": [order()], "mode": "li\u202eve"}, "mode"),
    (
        {"world_id": "w1", "scope": "per_world", "orders": [order()], "execution_domain": "l\nx"},
        "execution_domain",
    ),
    ({"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A\u200bB", "qty": 1}]},
     "orders[0].symbol"),
    ({"world_id": "w1", "scope": "per_world", "orders": [order(mode="live\u2028x")]},
     "orders[0].mode"),
    ({"per_world": {"w\n1": [order()]}}, "per_world key 'w\\n1'"),
    ({"per_strategy": [{"world_id": "w1", "strategy_id": "s\u2066", "order": order()}]},
     "per_strategy[0].strategy_id"),
    ({"per_strategy": [{"world_id": "w\u202e1", "strategy_id": "s", "order": order()}]},
     "per_strategy[0].world_id"),
    ({"global": [order(execution_domain="live\x1b[2J")]}, "global[0].execution_domain"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "field"), REBALANCE_IDS)
def test_rebalance_ids_with_control_or_format_characters_are_refused(
    api: APIClient, body: dict[str, Any], field: str
) -> None:
    assert_refused(post_batch(api, body), "E_INVALID_ID", field)


def test_an_execution_domain_with_a_format_character_is_refused(api: APIClient) -> None:
    body = submission_body(meta={"execution_domain": "li\u200bve"})
    assert_refused(api.post("/strategies", body, format="json"), "E_INVALID_ID", "execution_domain")


def test_ordinary_unicode_in_ids_is_accepted(api: APIClient) -> None:
    body = {"world_id": "wélt 東京", "scope": "per_world", "orders": [order(symbol="ÄPFEL")]}
    response = post_batch(api, body)
    assert response.status_code == 202, response.json()
    assert response.json()["batches"][0]["world_id"] == "wélt 東京"


@pytest.mark.parametrize("digits", [310, 4000, 5000, 100_000])
def test_an_integer_quantity_beyond_a_double_is_a_422_naming_the_field(
    api: APIClient, digits: int
) -> None:
    text = '{"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A", "quantity": %s}]}'
    response = raw_post(api, "/rebalancing/batches", text % ("9" * digits))
    assert_refused(response, "E_NUMBER_TOO_LARGE", "orders[0].quantity")
    assert "set_int_max_str_digits" not in response.json()["message"]


@pytest.mark.parametrize(
    "number", ["1e999", "-1e400", "9" * 309, "-" + "9" * 309, "1" + "0" * 400 + ".5"]
)
def test_every_number_of_a_request_is_bounded_by_a_double(api: APIClient, number: str) -> None:
    for path, text, field in [
        ("/rebalancing/batches", '{"per_world": {"w1": [{"symbol": "A", "qty": %s}]}}',
         "per_world.w1[0].qty"),
        ("/rebalancing/batches", '{"global": [{"symbol": "A", "qty": 1, "x": [%s]}]}',
         "global[0].x[0]"),
        ("/strategies", '{"dag_json": "{}", "world_ids": ["w"], "node_ids_crc32": %s}',
         "node_ids_crc32"),
        ("/strategies", '{"dag_json": "{}", "world_ids": ["w"], "node_ids_crc32": 1, '
         '"meta": {"n": %s}}', "meta.n"),
    ]:  # fmt: skip
        assert_refused(raw_post(api, path, text % number), "E_NUMBER_TOO_LARGE", field)


def test_the_largest_double_as_an_integer_is_still_a_number(api: APIClient) -> None:
    largest = str(int(1.7976931348623157e308))
    text = '{"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A", "qty": %s}]}'
    response = raw_post(api, "/rebalancing/batches", text % largest)
    assert response.status_code == 202, response.json()


def test_a_dag_integer_beyond_a_double_is_an_invalid_dag(api: APIClient) -> None:
    dag = '{"nodes": [{"node_id": "a", "n": %s}]}' % ("9" * 5000)
    body = submission_body(dag=None, dag_json=dag, node_ids_crc32=0)
    response = api.post("/strategies", body, format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "E_INVALID_DAG"
    assert "5000 digits" in response.json()["message"]
    assert_nothing_written()


def test_thirty_thousand_worlds_in_one_request_are_refused(api: APIClient) -> None:
    # The request: 30,000 worlds within the 1 MB body limit.
    body = {"per_world": {f"w{i}": [{"symbol": "A", "qty": 1}] for i in range(30_000)}}
    text = json.dumps(body, separators=(",", ":"))
    assert len(text) < 1024 * 1024
    response = raw_post(api, "/rebalancing/batches", text)
    assert_refused(response, "E_TOO_MANY_ITEMS", "per_world")
    assert "API_MAX_WORLDS_PER_REQUEST" in response.json()["message"]


def test_world_ids_of_a_submission_are_capped(api: APIClient, settings: Any) -> None:
    limits(settings, max_worlds=3)
    body = submission_body(world_ids=["a", "b", "c", "d"])
    assert_refused(api.post("/strategies", body, format="json"), "E_TOO_MANY_ITEMS", "world_ids")
    accepted = api.post("/strategies", submission_body(world_ids=["a", "b", "c"]), format="json")
    assert accepted.status_code == 202, accepted.json()


def test_orders_batches_and_strategies_are_capped(api: APIClient, settings: Any) -> None:
    limits(settings, max_orders=2)
    single = {"world_id": "w1", "scope": "per_world", "orders": [order()] * 3}
    assert_refused(post_batch(api, single), "E_TOO_MANY_ITEMS", "orders")
    assert_refused(post_batch(api, {"global": [order()] * 3}), "E_TOO_MANY_ITEMS", None)
    limits(settings, max_orders=100)

    limits(settings, max_batches=2)
    three = {"per_world": {"w1": [order()], "w2": [order()]}, "global": [order()]}
    response = post_batch(api, three)
    assert_refused(response, "E_TOO_MANY_ITEMS", None)
    assert "API_MAX_BATCHES_PER_REQUEST" in response.json()["message"]

    limits(settings, max_strategies_per_batch=1)
    entries = [{"world_id": "w1", "strategy_id": s, "order": order()} for s in ("s1", "s2")]
    response = post_batch(api, {"per_strategy": entries})
    assert_refused(response, "E_TOO_MANY_ITEMS", None)
    assert "API_MAX_STRATEGIES_PER_BATCH" in response.json()["message"]
    within = post_batch(api, {"per_strategy": entries[:1], "global": [order()]})
    assert within.status_code == 202, within.json()
