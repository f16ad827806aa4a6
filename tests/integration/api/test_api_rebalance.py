"""POST /rebalancing/batches: both request forms, counts, shadow blocking; real PostgreSQL."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent
from commitlog.records import decode_value
from controlplane.models import RebalanceBatch

pytestmark = pytest.mark.django_db

BATCH_ID = re.compile(r"^(?P<world>.+):(?P<hex>[0-9a-f]{32})$")


def post(api: APIClient, body: Any) -> Any:
    return api.post("/rebalancing/batches", body, format="json")


def payload_of(batch_id: str) -> dict[str, Any]:
    row = OutboxEvent.objects.get(aggregate_id=batch_id)
    assert row.key == f"rebalance:{batch_id}"
    record = decode_value(bytes(row.value))
    assert record.event == "gateway.rebalance"
    assert record.id == batch_id
    return record.payload


def test_single_batch_form(api: APIClient) -> None:
    orders = [
        {"symbol": "AAPL", "quantity": 10, "venue": "x"},
        {"symbol": "MSFT", "qty": -5, "reduce_only": True},
        {"symbol": "TSLA", "delta_qty": 1.5, "reduce_only": False},
    ]
    response = post(api, {"world_id": "w1", "scope": "per_world", "orders": orders, "mode": "live"})
    assert response.status_code == 202, response.json()
    [batch] = response.json()["batches"]
    match = BATCH_ID.match(batch["batch_id"])
    assert match is not None
    assert match["world"] == "w1"
    assert uuid.UUID(hex=match["hex"]).version == 4
    assert batch["counts"] == {"total": 3, "reduce_only": 1}
    assert batch["reduce_only_ratio"] == pytest.approx(1 / 3)

    payload = payload_of(batch["batch_id"])
    assert payload == {
        "event": "gateway.rebalance",
        "version": 1,
        "batch_id": batch["batch_id"],
        "world_id": "w1",
        "scope": "per_world",
        "orders": orders,  # as given: no `reduce_only: false` added
        "counts": {"total": 3, "reduce_only": 1},
        "reduce_only_ratio": pytest.approx(1 / 3),
        "submitted_at": payload["submitted_at"],
        "mode": "live",
    }
    assert "shared_account" not in payload
    stored = RebalanceBatch.objects.get(batch_id=batch["batch_id"])
    assert (stored.total_orders, stored.reduce_only_orders, stored.status) == (3, 1, "accepted")


def test_multi_world_form_makes_one_batch_per_non_empty_group(api: APIClient) -> None:
    body = {
        "per_world": {
            "w1": [
                {"symbol": "A", "quantity": 1},
                {"symbol": "B", "quantity": -1, "reduce_only": True},
            ],
            "w2": [{"symbol": "C", "quantity": 2}],
            "w3": [],
        },
        "global": [{"symbol": "G", "quantity": 3, "reduce_only": True}],
        "per_strategy": [
            {"world_id": "w1", "strategy_id": "s1", "order": {"symbol": "D", "quantity": 4}},
            {"world_id": "w1", "strategy_id": "s2", "order": {"symbol": "E", "quantity": 5}},
            {"world_id": "w4", "strategy_id": "s3", "order": {"symbol": "F", "quantity": 6}},
        ],
        "shared_account": True,
    }
    response = post(api, body)
    assert response.status_code == 202, response.json()
    batches = response.json()["batches"]
    summary = [(b["world_id"], b["scope"], b["counts"]["total"]) for b in batches]
    assert summary == [
        ("w1", "per_world", 2),
        ("w2", "per_world", 1),
        ("global", "global", 1),
        ("w1", "per_strategy", 2),
        ("w4", "per_strategy", 1),
    ]
    assert batches[2]["batch_id"].startswith("global:")
    assert batches[0]["reduce_only_ratio"] == 0.5
    assert batches[2]["reduce_only_ratio"] == 1.0
    # Shared-account netting is across strategies: never on a per_strategy batch.
    assert [b.get("shared_account") for b in batches] == [True, True, True, None, None]

    per_strategy = payload_of(batches[3]["batch_id"])
    assert per_strategy["orders"] == body["per_strategy"][:2]  # the entries, as given
    assert "shared_account" not in per_strategy
    assert "mode" not in per_strategy
    assert payload_of(batches[0]["batch_id"])["orders"] == body["per_world"]["w1"]
    assert RebalanceBatch.objects.count() == 5
    assert OutboxEvent.objects.count() == 5


@pytest.mark.parametrize(
    "body",
    [
        {
            "world_id": "w1",
            "scope": "per_world",
            "orders": [{"symbol": "A", "quantity": 1}],
            "mode": "shadow",
        },
        {"per_world": {"w1": [{"symbol": "A", "quantity": 1}]}, "mode": "Shadow"},
        {"per_world": {"w1": [{"symbol": "A", "quantity": 1}]}, "execution_domain": "acme:shadow"},
        {"per_world": {"w1": [{"symbol": "A", "quantity": 1, "execution_domain": "shadow"}]}},
    ],
)
def test_shadow_mode_or_domain_blocks_orders(api: APIClient, body: dict[str, Any]) -> None:
    response = post(api, body)
    assert response.status_code == 422
    assert response.json()["code"] == "E_SHADOW_ORDERS_BLOCKED"
    assert RebalanceBatch.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "E_NO_ORDERS"),
        ({"per_world": {"w1": []}, "global": []}, "E_NO_ORDERS"),
        ({"world_id": "w1", "scope": "per_world", "orders": []}, "E_NO_ORDERS"),
        (
            {"world_id": "w1", "scope": "sideways", "orders": [{"symbol": "A", "quantity": 1}]},
            "E_INVALID_REQUEST",
        ),
        ({"world_id": "w1", "orders": [{"symbol": "A", "quantity": 1}]}, "E_INVALID_REQUEST"),
        # The orders are fine: the request lacks its world.
        ({"scope": "per_world", "orders": [{"symbol": "A", "quantity": 1}]}, "E_INVALID_REQUEST"),
        ({"world_id": "w1", "scope": "per_world", "orders": [{"quantity": 1}]}, "E_INVALID_ORDERS"),
        ({"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A"}]}, "E_INVALID_ORDERS"),
        (
            {"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A", "quantity": "1"}]},
            "E_INVALID_ORDERS",
        ),
        (
            {"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A", "quantity": True}]},
            "E_INVALID_ORDERS",
        ),
        (
            {
                "world_id": "w1",
                "scope": "per_world",
                "orders": [{"symbol": "A", "quantity": 1, "reduce_only": "yes"}],
            },
            "E_INVALID_ORDERS",
        ),
        ({"world_id": "w1", "scope": "per_world", "orders": ["AAPL"]}, "E_INVALID_ORDERS"),
        (
            {"world_id": "w1", "scope": "per_strategy", "orders": [{"symbol": "A", "quantity": 1}]},
            "E_INVALID_ORDERS",
        ),
        (
            {"per_strategy": [{"world_id": "w1", "order": {"symbol": "A", "quantity": 1}}]},
            "E_INVALID_ORDERS",
        ),
        (
            {"per_strategy": [{"strategy_id": "s", "order": {"symbol": "A", "quantity": 1}}]},
            "E_INVALID_ORDERS",
        ),
        (
            {"per_world": {"w1": [{"symbol": "A", "quantity": 1}]}, "shared_account": "yes"},
            "E_INVALID_REQUEST",
        ),
        (
            {
                "per_world": {"w1": [{"symbol": "A", "quantity": 1}]},
                "scope": "per_world",
                "orders": [],
            },
            "E_INVALID_REQUEST",
        ),
        ({"per_world": ["w1"]}, "E_INVALID_REQUEST"),
    ],
)
def test_invalid_rebalance_requests_are_422_and_write_nothing(
    api: APIClient, body: dict[str, Any], code: str
) -> None:
    response = post(api, body)
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == code
    assert RebalanceBatch.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_one_bad_order_among_good_groups_writes_nothing(api: APIClient) -> None:
    body = {
        "per_world": {"w1": [{"symbol": "A", "quantity": 1}]},
        "global": [{"symbol": "G"}],
    }
    assert post(api, body).status_code == 422
    assert RebalanceBatch.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_single_global_batch_defaults_world_to_global(api: APIClient) -> None:
    response = post(api, {"scope": "global", "orders": [{"symbol": "A", "quantity": 1}]})
    assert response.status_code == 202
    assert response.json()["batches"][0]["batch_id"].startswith("global:")


def test_single_per_strategy_batch_keeps_its_entries_and_counts_their_orders(
    api: APIClient,
) -> None:
    entries = [
        {"world_id": "w1", "strategy_id": "s1", "order": {"symbol": "A", "quantity": -1,
                                                          "reduce_only": True}},
        {"world_id": "w1", "strategy_id": "s2", "order": {"symbol": "B", "quantity": 2}},
    ]  # fmt: skip
    body = {"world_id": "w1", "scope": "per_strategy", "orders": entries, "shared_account": True}
    response = post(api, body)
    assert response.status_code == 202, response.json()
    [batch] = response.json()["batches"]
    assert batch["counts"] == {"total": 2, "reduce_only": 1}
    assert "shared_account" not in batch
    payload = payload_of(batch["batch_id"])
    assert payload["orders"] == entries
    assert payload["counts"] == {"total": 2, "reduce_only": 1}
    assert payload["reduce_only_ratio"] == 0.5
    assert "shared_account" not in payload
    assert RebalanceBatch.objects.get(batch_id=batch["batch_id"]).orders == entries


def test_single_per_strategy_entry_of_another_world_is_refused(api: APIClient) -> None:
    entry = {"world_id": "w2", "strategy_id": "s1", "order": {"symbol": "A", "quantity": 1}}
    response = post(api, {"world_id": "w1", "scope": "per_strategy", "orders": [entry]})
    assert response.status_code == 422
    assert response.json()["code"] == "E_INVALID_ORDERS"
    assert "world_id" in response.json()["message"]
    assert RebalanceBatch.objects.count() == 0


def test_a_quantity_beyond_a_double_is_named_as_such(api: APIClient) -> None:
    raw = '{"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A", "qty": 1e999}]}'
    response = api.post("/rebalancing/batches", raw, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "E_NUMBER_TOO_LARGE"
    assert body["message"] == "orders[0].qty: 1e999 is beyond a double's range"
    assert body["errors"] == [
        {
            "field": "orders[0].qty",
            "code": "E_NUMBER_TOO_LARGE",
            "message": "1e999 is beyond a double's range",
        }
    ]


def test_a_single_batch_without_its_world_names_the_field(api: APIClient) -> None:
    response = post(api, {"scope": "per_world", "orders": [{"symbol": "A", "qty": 1}]})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "E_INVALID_REQUEST"
    assert [e["field"] for e in body["errors"]] == ["world_id"]
    assert "world_id is required" in body["message"]


def test_every_field_at_fault_is_listed(api: APIClient) -> None:
    response = post(api, {"scope": "sideways", "orders": "none", "shared_account": "yes"})
    assert response.status_code == 422
    errors = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert errors == {
        "scope": "E_INVALID_CHOICE",
        "orders": "E_NOT_A_LIST",
        "shared_account": "E_INVALID",
    }
