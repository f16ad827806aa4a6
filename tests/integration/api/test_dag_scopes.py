"""A DAG is unique within its owner scope (the worlds the credential is limited to, or the
global scope of unlimited credentials), not across the service: whoever submits a DAG
first no longer owns it for every tenant. Within a scope, qmtl's behaviour holds: the same
DAG again is 409 E_DUPLICATE with the existing strategy's id. Real PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent
from controlplane.models import StrategySubmission
from controlplane.services.credentials import credential_issue, credential_limits
from tests.support.bodies import make_dag, submission_body

pytestmark = pytest.mark.django_db

DAG = make_dag("alpha-1", "alpha-2")


def client_for(name: str, worlds: Sequence[str] = ()) -> APIClient:
    token = credential_issue(name=name, limits=credential_limits(worlds=worlds)).token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def submit(client: APIClient, worlds: list[str], dag: dict[str, Any] = DAG) -> Any:
    return client.post("/strategies", submission_body(dag, world_ids=worlds), format="json")


def assert_duplicate_of(response: Any, strategy_id: str) -> None:
    assert response.status_code == 409, response.content
    assert response.json() == {
        "code": "E_DUPLICATE",
        "message": response.json()["message"],
        "strategy_id": strategy_id,
    }


def test_another_tenants_copy_of_a_dag_does_not_block_its_owner() -> None:
    squatter = client_for("squatter", worlds=["B"])
    owner = client_for("owner", worlds=["A"])
    taken = submit(squatter, ["B"])  # first, with the owner's DAG
    assert taken.status_code == 202

    mine = submit(owner, ["A"])
    assert mine.status_code == 202, mine.content
    owned = mine.json()["strategy_id"]
    assert owned != taken.json()["strategy_id"]
    # Each resubmits as qmtl's SDK does and finds its own strategy, never the other's.
    assert_duplicate_of(submit(owner, ["A"]), owned)
    assert_duplicate_of(submit(squatter, ["B"]), taken.json()["strategy_id"])
    assert owner.get(f"/strategies/{taken.json()['strategy_id']}/status").status_code == 404
    assert squatter.get(f"/strategies/{owned}/status").status_code == 404
    hashes = StrategySubmission.objects.values_list("dag_hash", flat=True)
    assert sorted(hashes) == [hashes[0]] * 2  # one DAG, a strategy per tenant
    assert OutboxEvent.objects.count() == 2


def test_credentials_limited_to_the_same_worlds_share_a_scope() -> None:
    # A tenant's credentials, as after a token's rotation: the worlds in any order.
    first = submit(client_for("desk", worlds=["A", "C"]), ["A"])
    assert first.status_code == 202
    assert_duplicate_of(
        submit(client_for("desk, rotated", worlds=["C", "A"]), ["C"]), first.json()["strategy_id"]
    )
    # Worlds that differ at all are another scope.
    assert submit(client_for("wider", worlds=["A", "C", "D"]), ["A"]).status_code == 202


def test_unlimited_credentials_share_the_global_scope(api: APIClient) -> None:
    stored = submit(api, ["A"])
    assert stored.status_code == 202
    assert_duplicate_of(
        submit(client_for("another unlimited"), ["B"]), stored.json()["strategy_id"]
    )
    # A limited tenant's scope is not the global one, either way round.
    assert submit(client_for("tenant", worlds=["A"]), ["A"]).status_code == 202
    other = make_dag("beta-1")
    assert submit(client_for("tenant too", worlds=["B"]), ["B"], other).status_code == 202
    assert submit(api, ["B"], other).status_code == 202
