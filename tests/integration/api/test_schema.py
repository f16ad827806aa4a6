"""The OpenAPI schema as served: every operation's answers, each error status with the
enum of its codes (taken from controlplane.errors.codes), complete shapes for orders and
entries, no pointer to documents outside it. (tests/test_fuzz_api.py checks real answers
against it.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from controlplane import errors as exceptions
from controlplane.errors import codes as error_codes
from controlplane.services.idempotency import IdempotencyKeyReused, InvalidIdempotencyKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(api: APIClient) -> dict[str, Any]:
    response = api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def _error_enum(operation: dict[str, Any], status: str) -> list[str]:
    body = operation["responses"][status]["content"]["application/json"]["schema"]
    codes: list[str] = body["properties"]["code"]["enum"]
    return codes


def test_each_operation_lists_its_statuses(served: dict[str, Any]) -> None:
    paths = served["paths"]
    submit = paths["/strategies"]["post"]["responses"]
    rebalance = paths["/rebalancing/batches"]["post"]["responses"]
    status = paths["/strategies/{strategy_id}/status"]["get"]["responses"]
    batch = paths["/rebalancing/batches/{batch_id}"]["get"]["responses"]
    assert set(submit) == {
        "202",
        "400",
        "401",
        "403",
        "406",
        "409",
        "413",
        "415",
        "422",
        "429",
        "503",
    }
    assert set(rebalance) == {"202", "400", "401", "403", "406", "413", "415", "422", "429", "503"}
    assert set(status) == set(batch) == {"200", "401", "404", "406", "429", "503"}


def test_each_error_status_lists_exactly_its_codes(served: dict[str, Any]) -> None:
    paths = served["paths"]
    submit = paths["/strategies"]["post"]
    rebalance = paths["/rebalancing/batches"]["post"]
    assert _error_enum(submit, "401") == ["E_UNAUTHENTICATED"]
    assert _error_enum(submit, "429") == ["E_THROTTLED"]
    assert _error_enum(submit, "409") == ["E_DUPLICATE"]
    assert set(_error_enum(submit, "422")) == {
        "E_INVALID_REQUEST",
        "E_JSON_TOO_DEEP",
        "E_INVALID_DAG",
        "E_CHECKSUM_MISMATCH",
        "E_WORLD_IDS_REQUIRED",
        "E_WORLD_ID_DEPRECATED",
        "E_INVALID_CONTEXT",
        "E_INVALID_ID",
        "E_NUMBER_TOO_LARGE",
        "E_TOO_MANY_ITEMS",
    }
    assert set(_error_enum(rebalance, "422")) == {
        "E_INVALID_REQUEST",
        "E_JSON_TOO_DEEP",
        "E_INVALID_ORDERS",
        "E_NO_ORDERS",
        "E_SHADOW_ORDERS_BLOCKED",
        "E_IDEMPOTENCY_KEY_REUSED",
        "E_INVALID_ID",
        "E_NUMBER_TOO_LARGE",
        "E_TOO_MANY_ITEMS",
    }
    assert set(_error_enum(rebalance, "400")) == {"E_MALFORMED_JSON", "E_INVALID_IDEMPOTENCY_KEY"}
    assert _error_enum(submit, "400") == ["E_MALFORMED_JSON"]
    duplicate = submit["responses"]["409"]["content"]["application/json"]["schema"]
    assert "strategy_id" in duplicate["properties"]
    # Each listed code is defined with the status it is listed under, and described.
    for methods in paths.values():
        for operation in methods.values():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                for code in _error_enum(operation, status):
                    assert error_codes.status_of(code) == int(status), (code, status)
                    assert code in response["description"]


def test_errors_take_their_status_from_the_one_definition() -> None:
    refusals = [
        exceptions.DuplicateSubmission("0190c0de-0000-7000-8000-000000000000"),
        exceptions.InvalidDag("x"),
        exceptions.InvalidOrders("x", code=error_codes.NO_ORDERS),
        InvalidIdempotencyKey("x"),
        IdempotencyKeyReused("x"),
    ]
    assert [error.status_code for error in refusals] == [409, 422, 422, 400, 422]
    assert all(entry.code.startswith("E_") for entry in error_codes.CODES.values())


def test_schema_shapes_are_complete(served: dict[str, Any]) -> None:
    components = served["components"]["schemas"]
    request = components["StrategySubmitInRequest"]
    assert "world_ids" in request["required"]
    assert not request["properties"]["world_ids"].get("nullable", False)
    enums = [c.get("enum") for c in components.values()]
    assert ["accepted", "published", "recorded"] in enums  # status is an enum
    rebalance = components["RebalanceInRequest"]["properties"]
    order = rebalance["global"]["items"]
    assert order["required"] == ["symbol"]
    assert {"symbol", "quantity", "qty", "delta_qty", "reduce_only"} <= set(order["properties"])
    assert rebalance["per_world"]["additionalProperties"]["items"] == order
    entry = rebalance["per_strategy"]["items"]
    assert entry["required"] == ["world_id", "strategy_id", "order"]
    assert entry["properties"]["order"] == order
    # No object is left as `{}` (anything): each has properties or a typed value.
    for path, node in _walk(served):
        if isinstance(node, dict) and node.get("type") == "object":
            shaped = "properties" in node or node.get("maxProperties") == 0
            typed_values = node.get("additionalProperties") not in (None, {}, True)
            assert shaped or typed_values, path


def test_no_description_points_elsewhere(served: dict[str, Any]) -> None:
    for path, node in _walk(served):
        if isinstance(node, str) and path.endswith(("/description", "/summary")):
            assert "SPEC" not in node, path
