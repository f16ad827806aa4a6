"""Every example request of the served OpenAPI schema (what "Try it out" on /api/docs
sends) is accepted by the API with a real credential: each request body as written, and
each read with the ids the writes gave for its path."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def examples_of(operation: dict[str, Any]) -> list[Any]:
    content = operation.get("requestBody", {}).get("content", {})
    return [
        example["value"]
        for example in content.get("application/json", {}).get("examples", {}).values()
    ]


def ids_in(answer: dict[str, Any]) -> dict[str, str]:
    """The ids an answer names, by the path parameter each fills."""
    found = {"strategy_id": answer["strategy_id"]} if "strategy_id" in answer else {}
    for batch in answer.get("batches", []):
        found["batch_id"] = batch["batch_id"]
    return found


def test_every_example_request_is_accepted(api: APIClient) -> None:
    schema = api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    writes = [(m, p, o) for m, p, o in operations(schema) if "requestBody" in o]
    reads = [(m, p, o) for m, p, o in operations(schema) if "requestBody" not in o]
    assert {p for _, p, _ in writes} == {"/strategies", "/rebalancing/batches"}

    ids: dict[str, str] = {}
    for method, path, operation in writes:
        bodies = examples_of(operation)
        assert bodies, f"{method} {path} offers no example"
        for body in bodies:
            answer = getattr(api, method)(path, body, format="json")
            assert answer.status_code == 202, (path, body, answer.json())
            assert answer.json().get("downgraded") in (None, False)
            ids.update(ids_in(answer.json()))

    assert {p for _, p, _ in reads} == {
        "/strategies/{strategy_id}/status",
        "/rebalancing/batches/{batch_id}",
    }
    for method, path, _ in reads:
        filled = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        answer = getattr(api, method)(filled)
        assert answer.status_code == 200, (filled, answer.json())
