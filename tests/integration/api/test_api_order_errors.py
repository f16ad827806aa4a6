"""A refused rebalance request names every bad order, not only the first."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from controlplane.domain.orders import MAX_ORDER_ERRORS
from controlplane.models import RebalanceBatch

pytestmark = pytest.mark.django_db

GOOD = {"symbol": "A", "quantity": 1}


def post(api: APIClient, body: dict[str, Any]) -> Any:
    response = api.post("/rebalancing/batches", body, format="json")
    assert response.status_code == 422, response.json()
    assert RebalanceBatch.objects.count() == 0
    return response.json()


def fields_of(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body["errors"]]


def test_two_bad_orders_of_the_single_form_are_both_named(api: APIClient) -> None:
    orders = [{"symbol": ""}, GOOD, {"symbol": "B", "quantity": "x"}]
    body = post(api, {"world_id": "w", "scope": "per_world", "orders": orders})
    assert body["code"] == "E_INVALID_ORDERS"
    assert body["message"] == "orders[0].symbol must be a non-empty string"
    assert fields_of(body) == ["orders[0].symbol", "orders[2].quantity"]
    assert {error["code"] for error in body["errors"]} == {"E_INVALID_ORDERS"}


def test_three_bad_orders_of_the_multi_form_are_all_named(api: APIClient) -> None:
    body = post(
        api,
        {
            "per_world": {"w": [GOOD, {"symbol": "A"}]},
            "global": [{"symbol": "G", "quantity": 1, "reduce_only": "yes"}],
            "per_strategy": [{"world_id": "w", "strategy_id": "s", "order": 5}],
        },
    )
    assert body["code"] == "E_INVALID_ORDERS"
    assert body["message"].startswith("per_world['w'][1] needs a quantity")
    assert fields_of(body) == [
        "per_world['w'][1]",
        "global[0].reduce_only",
        "per_strategy[0].order",
    ]


def test_three_bad_per_strategy_entries_of_the_single_form(api: APIClient) -> None:
    entries = [
        {"world_id": "other", "strategy_id": "s", "order": GOOD},
        {"world_id": "w", "strategy_id": "", "order": GOOD},
        {"world_id": "w", "strategy_id": "s", "order": {"symbol": "A", "qty": None}},
    ]
    body = post(api, {"world_id": "w", "scope": "per_strategy", "orders": entries})
    assert body["message"] == "orders[0].world_id differs from world_id"
    assert fields_of(body) == [
        "orders[0].world_id",
        "orders[1].strategy_id",
        "orders[2].order.qty",
    ]


def test_the_errors_listed_are_capped(api: APIClient) -> None:
    orders = [{"symbol": ""}] * (MAX_ORDER_ERRORS + 10)
    body = post(api, {"world_id": "w", "scope": "per_world", "orders": orders})
    assert len(body["errors"]) == MAX_ORDER_ERRORS
