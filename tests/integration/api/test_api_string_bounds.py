"""Every string of a request has a bound: an order's symbol and ids, a per_strategy
entry's strategy id, and meta's and context's keys and strings (how many keys, how long
each string), refused naming the field, nothing written. Real PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from controlplane.domain import widths
from controlplane.models import RebalanceBatch, StrategySubmission
from tests.support.bodies import submission_body

pytestmark = pytest.mark.django_db


def rebalance(api: APIClient, body: dict[str, Any]) -> Any:
    return api.post("/rebalancing/batches", body, format="json")


@pytest.mark.parametrize(
    ("key", "limit"), [("symbol", widths.SYMBOL), ("strategy_id", widths.STRATEGY_ID)]
)
def test_an_order_id_beyond_its_width_is_refused_naming_it(
    api: APIClient, key: str, limit: int
) -> None:
    order = {"symbol": "A", "quantity": 1, key: "x" * (limit + 1)}
    response = rebalance(api, {"world_id": "w1", "scope": "per_world", "orders": [order]})
    assert response.status_code == 422, response.json()
    assert response.json()["message"] == f"orders[0].{key} is longer than {limit} characters"
    order[key] = "x" * limit
    assert (
        rebalance(api, {"world_id": "w1", "scope": "per_world", "orders": [order]}).status_code
        == 202
    )


def test_a_per_strategy_entrys_strategy_id_beyond_its_width_is_refused(api: APIClient) -> None:
    long_id = "s" * (widths.STRATEGY_ID + 1)
    entry = {"world_id": "w1", "strategy_id": long_id, "order": {"symbol": "A", "quantity": 1}}
    response = rebalance(api, {"per_strategy": [entry]})
    assert response.status_code == 422, response.json()
    assert "per_strategy[0].strategy_id is longer than" in response.json()["message"]
    assert RebalanceBatch.objects.count() == 0


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({f"k{i}": i for i in range(widths.META_KEYS + 1)}, "meta holds more than"),
        ({"nested": {f"k{i}": i for i in range(widths.META_KEYS)}}, "meta holds more than"),
        ({"note": "n" * (widths.META_STRING + 1)}, "meta holds a string longer than"),
        ({"k" * (widths.META_STRING + 1): 1}, "meta holds a string longer than"),
    ],
)
def test_meta_beyond_its_bounds_is_refused(
    api: APIClient, meta: dict[str, Any], message: str
) -> None:
    response = api.post("/strategies", submission_body(meta=meta), format="json")
    assert response.status_code in (400, 422), response.json()
    assert response.json()["code"] == "E_INVALID_REQUEST"
    assert message in response.json()["message"]
    assert StrategySubmission.objects.count() == 0


def test_meta_within_its_bounds_is_accepted(api: APIClient) -> None:
    meta: dict[str, Any] = {"execution_domain": "live", "note": "n" * widths.META_STRING}
    meta |= {f"k{i}": i for i in range(widths.META_KEYS - len(meta))}
    response = api.post("/strategies", submission_body(meta=meta), format="json")
    assert response.status_code == 202, response.json()
