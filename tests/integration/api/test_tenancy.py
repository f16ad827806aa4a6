"""Attribution and tenancy: what each credential sent is recorded, limits on worlds and
rebalance scopes hold for every request form, status reads and a duplicate's id answer
only for what the credential may see. Real PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent
from controlplane.models import ApiCredential, IdempotencyKey, RebalanceBatch, StrategySubmission
from controlplane.services.credentials import (
    credential_issue,
    credential_limits,
    credential_set_limits,
)
from tests.support.bodies import make_dag, submission_body

pytestmark = pytest.mark.django_db

ORDER = {"symbol": "AAPL", "quantity": 1}


def client_for(
    name: str, worlds: Sequence[str] = (), scopes: Sequence[str] = ()
) -> tuple[APIClient, ApiCredential]:
    issued = credential_issue(name=name, limits=credential_limits(worlds=worlds, scopes=scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    return client, issued.credential


def submit(client: APIClient, worlds: list[str], dag: dict[str, Any] | None = None) -> Any:
    return client.post("/strategies", submission_body(dag, world_ids=worlds), format="json")


def rebalance(client: APIClient, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/rebalancing/batches", body, format="json", **headers)


def assert_nothing_written() -> None:
    assert StrategySubmission.objects.count() == 0
    assert RebalanceBatch.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


def test_a_submission_records_its_credential_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    client, credential = client_for("desk a")
    with caplog.at_level("INFO", logger="controlplane.services.strategies"):
        response = submit(client, ["w1"])
    assert response.status_code == 202, response.json()
    stored = StrategySubmission.objects.get(strategy_id=response.json()["strategy_id"])
    assert stored.credential_id == credential.pk
    [line] = [r.getMessage() for r in caplog.records if "event=strategy_accepted" in r.getMessage()]
    assert f"strategy_id={stored.strategy_id}" in line
    assert f"credential_id={credential.pk} credential=desk a" in line


def test_every_batch_records_its_credential_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    client, credential = client_for("desk b")
    body = {
        "per_world": {"w1": [ORDER], "w2": [ORDER]},
        "global": [ORDER],
        "per_strategy": [{"world_id": "w1", "strategy_id": "s1", "order": ORDER}],
    }
    with caplog.at_level("INFO", logger="controlplane.services.rebalancing"):
        response = rebalance(client, body)
        single = rebalance(client, {"world_id": "w3", "scope": "per_world", "orders": [ORDER]})
    assert response.status_code == single.status_code == 202
    ids = {b["batch_id"] for b in response.json()["batches"] + single.json()["batches"]}
    assert len(ids) == 5
    senders = set(RebalanceBatch.objects.filter(batch_id__in=ids).values_list("credential_id"))
    assert senders == {(credential.pk,)}
    lines = [r.getMessage() for r in caplog.records if "event=rebalance_accepted" in r.getMessage()]
    assert len(lines) == 5
    assert all(f"credential_id={credential.pk} credential=desk b" in line for line in lines)


@pytest.mark.parametrize("worlds", [["B"], ["A", "B"], ["B", "A"]])
def test_a_world_limited_credential_cannot_submit_elsewhere(worlds: list[str]) -> None:
    client, _ = client_for("only a", worlds=["A"])
    response = submit(client, worlds)
    assert response.status_code == 403
    assert response.json()["code"] == "E_FORBIDDEN"
    assert "'B'" in response.json()["message"]
    assert_nothing_written()
    assert submit(client, ["A", " A "]).status_code == 202


FORBIDDEN_BATCHES = [
    {"world_id": "B", "scope": "per_world", "orders": [ORDER]},
    {"scope": "global", "orders": [ORDER]},
    {"world_id": "global", "scope": "global", "orders": [ORDER]},
    {
        "world_id": "B",
        "scope": "per_strategy",
        "orders": [{"world_id": "B", "strategy_id": "s", "order": ORDER}],
    },
    {"per_world": {"A": [ORDER], "B": [ORDER]}},
    {"per_world": {"A": [ORDER]}, "global": [ORDER]},
    {"per_strategy": [{"world_id": "B", "strategy_id": "s", "order": ORDER}]},
]


@pytest.mark.parametrize("body", FORBIDDEN_BATCHES)
def test_a_world_limited_credential_cannot_send_orders_elsewhere(body: dict[str, Any]) -> None:
    client, _ = client_for("only a", worlds=["A"])
    response = rebalance(client, body, key="k1")
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "E_FORBIDDEN"
    assert_nothing_written()  # not even the Idempotency-Key


ALLOWED_IN_A = [
    {"world_id": "A", "scope": "per_world", "orders": [ORDER]},
    {"per_world": {"A": [ORDER]}, "per_strategy": []},
]  # per_strategy orders of a limited credential: test_tenancy_strategies


@pytest.mark.parametrize("body", ALLOWED_IN_A)
def test_a_world_limited_credential_sends_orders_to_its_world(body: dict[str, Any]) -> None:
    client, _ = client_for("only a", worlds=["A"])
    assert rebalance(client, body).status_code == 202


def test_global_orders_need_global_among_the_worlds() -> None:
    client, _ = client_for("a and global", worlds=["A", "global"])
    response = rebalance(client, {"per_world": {"A": [ORDER]}, "global": [ORDER]})
    assert response.status_code == 202
    assert {b["world_id"] for b in response.json()["batches"]} == {"A", "global"}


@pytest.mark.parametrize(
    ("body", "allowed"),
    [
        ({"world_id": "w", "scope": "per_world", "orders": [ORDER]}, True),
        ({"scope": "global", "orders": [ORDER]}, False),
        ({"per_strategy": [{"world_id": "w", "strategy_id": "s", "order": ORDER}]}, False),
        ({"per_world": {"w": [ORDER]}, "global": [ORDER]}, False),
    ],
)
def test_a_scope_limited_credential_uses_only_its_scopes(
    body: dict[str, Any], allowed: bool
) -> None:
    client, _ = client_for("per world only", scopes=["per_world"])
    response = rebalance(client, body)
    assert response.status_code == (202 if allowed else 403), response.json()
    if not allowed:
        assert response.json()["code"] == "E_FORBIDDEN"
        assert_nothing_written()


def test_a_world_limit_does_not_bind_strategy_scopes() -> None:
    # A scope limit is about rebalance orders: submissions are judged by world only.
    client, _ = client_for("global only", scopes=["global"])
    assert submit(client, ["w1"]).status_code == 202


def _status(client: APIClient, path: str) -> tuple[int, dict[str, Any]]:
    response = client.get(path)
    return response.status_code, response.json()


def test_strategy_status_answers_only_for_what_the_credential_may_see() -> None:
    in_a, _ = client_for("a", worlds=["A"])
    in_b, _ = client_for("b", worlds=["B"])
    everywhere, _ = client_for("all")
    own = submit(in_a, ["A"]).json()["strategy_id"]
    shared = submit(everywhere, ["A", "B"], make_dag("x", "y")).json()["strategy_id"]
    unknown = "00000000-0000-7000-8000-000000000000"

    assert _status(in_a, f"/strategies/{own}/status")[0] == 200
    assert _status(everywhere, f"/strategies/{own}/status")[0] == 200
    # Answered as an unknown id is: nothing tells that it exists.
    status, hidden = _status(in_b, f"/strategies/{own}/status")
    assert status == 404
    _, missing = _status(in_b, f"/strategies/{unknown}/status")
    assert hidden["code"] == missing["code"] == "E_NOT_FOUND"
    assert hidden["message"].replace(own, unknown) == missing["message"]
    # Seen by whoever is allowed every one of its worlds.
    assert _status(in_a, f"/strategies/{shared}/status")[0] == 404
    assert _status(everywhere, f"/strategies/{shared}/status")[0] == 200


def test_batch_status_answers_only_for_what_the_credential_may_see() -> None:
    in_a, _ = client_for("a", worlds=["A"])
    in_b, _ = client_for("b", worlds=["B"])
    per_world_only, _ = client_for("per world", scopes=["per_world"])
    everywhere, _ = client_for("all")
    [own] = rebalance(in_a, {"world_id": "A", "scope": "per_world", "orders": [ORDER]}).json()[
        "batches"
    ]
    [glob] = rebalance(everywhere, {"scope": "global", "orders": [ORDER]}).json()["batches"]

    assert _status(in_a, f"/rebalancing/batches/{own['batch_id']}")[0] == 200
    assert _status(everywhere, f"/rebalancing/batches/{own['batch_id']}")[0] == 200
    status, hidden = _status(in_b, f"/rebalancing/batches/{own['batch_id']}")
    assert status == 404
    _, missing = _status(in_b, "/rebalancing/batches/A:" + "0" * 32)
    assert hidden["code"] == missing["code"] == "E_NOT_FOUND"
    assert hidden["message"].replace(own["batch_id"], "A:" + "0" * 32) == missing["message"]
    assert _status(in_a, f"/rebalancing/batches/{glob['batch_id']}")[0] == 404
    assert _status(per_world_only, f"/rebalancing/batches/{glob['batch_id']}")[0] == 404
    assert _status(per_world_only, f"/rebalancing/batches/{own['batch_id']}")[0] == 200


def test_a_sender_still_sees_what_it_sent_after_its_limits_narrow() -> None:
    client, credential = client_for("narrowed")
    strategy_id = submit(client, ["B"]).json()["strategy_id"]
    credential_set_limits(credential=credential, limits=credential_limits(worlds=["A"]))
    assert client.get(f"/strategies/{strategy_id}/status").status_code == 200
    assert submit(client, ["B"], make_dag("n")).status_code == 403


def test_a_duplicate_is_a_duplicate_only_in_its_scope_and_names_only_its_id() -> None:
    in_a, _ = client_for("a", worlds=["A"])
    other_in_a, _ = client_for("a too", worlds=["A"])
    in_b, _ = client_for("b", worlds=["B"])
    everywhere, _ = client_for("all")
    first = submit(in_a, ["A"]).json()["strategy_id"]

    for client in (in_a, other_in_a):  # one scope: the worlds A
        again = submit(client, ["A"])
        assert again.status_code == 409
        assert again.json()["code"] == "E_DUPLICATE"
        assert again.json()["strategy_id"] == first
    # Other scopes: a strategy of their own, and nothing of the first.
    for client, worlds in ((in_b, ["B"]), (everywhere, ["A"])):
        elsewhere = submit(client, worlds)
        assert elsewhere.status_code == 202
        assert first not in elsewhere.content.decode()
    assert StrategySubmission.objects.count() == OutboxEvent.objects.count() == 3


def test_a_duplicate_sent_to_a_forbidden_world_is_403_not_409() -> None:
    everywhere, _ = client_for("all")
    in_b, _ = client_for("b", worlds=["B"])
    assert submit(everywhere, ["A"]).status_code == 202
    # The limit is judged first: the caller learns nothing about world A's DAGs.
    assert submit(in_b, ["A"]).status_code == 403


def test_the_schema_lists_403_on_writes_and_only_404_on_reads(api: APIClient) -> None:
    paths = api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    assert "403" in paths["/strategies"]["post"]["responses"]
    assert "403" in paths["/rebalancing/batches"]["post"]["responses"]
    for read in ("/strategies/{strategy_id}/status", "/rebalancing/batches/{batch_id}"):
        responses = paths[read]["get"]["responses"]
        assert "404" in responses
        assert "403" not in responses  # what a credential may not see is not found
