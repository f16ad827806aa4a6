"""A world-limited credential names in `per_strategy` orders only strategies it may see:
another tenant's strategy and an unknown id are refused alike (403, nothing written), so
the answer does not tell whether a strategy exists. Real PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from rest_framework.test import APIClient

from controlplane.models import RebalanceBatch
from controlplane.services.credentials import credential_issue, credential_limits
from tests.support.bodies import make_dag, submission_body

pytestmark = pytest.mark.django_db

ORDER = {"symbol": "AAPL", "quantity": 1}


def client_for(name: str, worlds: Sequence[str] = ()) -> APIClient:
    issued = credential_issue(name=name, limits=credential_limits(worlds=worlds))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    return client


def strategy_of(client: APIClient, worlds: list[str], node: str) -> str:
    dag = make_dag(node)
    response = client.post("/strategies", submission_body(dag, world_ids=worlds), format="json")
    assert response.status_code == 202, response.json()
    strategy_id: str = response.json()["strategy_id"]
    return strategy_id


def per_strategy(world: str, *strategy_ids: str) -> dict[str, Any]:
    entries = [{"world_id": world, "strategy_id": s, "order": ORDER} for s in strategy_ids]
    return {"per_strategy": entries}


def test_another_tenants_strategy_and_an_unknown_one_are_refused_alike() -> None:
    other = strategy_of(client_for("tenant b", worlds=["wb"]), ["wb"], "b-node")
    mine_client = client_for("tenant a", worlds=["wa"])
    mine = strategy_of(mine_client, ["wa"], "a-node")
    answers = [
        mine_client.post("/rebalancing/batches", per_strategy("wa", mine, s), format="json")
        for s in (other, "5f0c6b7e-0000-7000-8000-000000000000", "not-a-uuid")
    ]
    bodies = [(a.status_code, a.json()["code"]) for a in answers]
    assert bodies == [(403, "E_FORBIDDEN")] * 3
    # The message names the id sent, and says nothing more about it.
    assert [a.json()["message"].replace(s, "ID") for a, s in zip(
        answers, (other, "5f0c6b7e-0000-7000-8000-000000000000", "not-a-uuid"), strict=True
    )] == ["this credential may not send orders for strategy 'ID'"] * 3  # fmt: skip
    assert RebalanceBatch.objects.count() == 0


def test_a_limited_credential_sends_per_strategy_orders_for_its_own_strategies() -> None:
    client = client_for("tenant a", worlds=["wa"])
    first, second = strategy_of(client, ["wa"], "n1"), strategy_of(client, ["wa"], "n2")
    response = client.post("/rebalancing/batches", per_strategy("wa", first, second), format="json")
    assert response.status_code == 202, response.json()


def test_an_unlimited_credential_may_name_any_strategy() -> None:
    # qmtl's gateways share strategies across processes: an operator's own unlimited
    # credential keeps naming ids this service has not stored.
    client = client_for("operator")
    response = client.post("/rebalancing/batches", per_strategy("w1", "s-elsewhere"), format="json")
    assert response.status_code == 202, response.json()
