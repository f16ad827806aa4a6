"""Idempotency-Key on POST /rebalancing/batches, and GET /rebalancing/batches/{id}; real
PostgreSQL (and the broker for a batch's trace through the log)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

import controlplane.services.rebalancing as rebalancing
from commitlog.conf import CommitLogSettings
from commitlog.models import OutboxEvent
from commitlog.upkeep.prune import commitlog_prune
from controlplane.models import IdempotencyKey, RebalanceBatch
from controlplane.services.credentials import credential_issue
from tests.support.bodies import race_two
from tests.support.flow import consume_to_end, relay_all

BODY = {
    "per_world": {"w1": [{"symbol": "AAPL", "quantity": 3}], "w2": [{"symbol": "BTC", "qty": 1}]},
    "global": [{"symbol": "SPY", "qty": -2, "reduce_only": True}],
    "mode": "live",
}


def post(client: APIClient, body: Any, key: str | None = None) -> Any:
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post("/rebalancing/batches", body, format="json", **headers)


def batch_ids(response: Any) -> list[str]:
    assert response.status_code == 202, response.json()
    return [batch["batch_id"] for batch in response.json()["batches"]]


@pytest.mark.django_db
def test_a_retry_with_the_same_key_and_body_is_answered_again_and_writes_nothing(
    api: APIClient,
) -> None:
    first = post(api, BODY, key="retry-1")
    assert "Idempotent-Replayed" not in first
    # The same request, its keys in another order (as another serialiser would send it).
    again = post(api, dict(reversed(list(BODY.items()))), key="retry-1")
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert len(batch_ids(first)) == 3
    assert RebalanceBatch.objects.count() == 3
    assert OutboxEvent.objects.count() == 3
    assert IdempotencyKey.objects.get().batch_ids == batch_ids(first)


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_and_writes_nothing(api: APIClient) -> None:
    batch_ids(post(api, BODY, key="k"))
    other = post(api, {**BODY, "mode": "paper"}, key="k")
    assert other.status_code == 422
    assert other.json()["code"] == "E_IDEMPOTENCY_KEY_REUSED"
    assert RebalanceBatch.objects.count() == 3
    assert OutboxEvent.objects.count() == 3


@pytest.mark.django_db
def test_without_a_key_each_request_is_new(api: APIClient) -> None:
    assert set(batch_ids(post(api, BODY))).isdisjoint(batch_ids(post(api, BODY)))
    assert RebalanceBatch.objects.count() == 6
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_keys_belong_to_their_credential(api: APIClient) -> None:
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {credential_issue(name='other').token}")
    mine, theirs = batch_ids(post(api, BODY, key="shared")), batch_ids(post(other, BODY, "shared"))
    assert set(mine).isdisjoint(theirs)
    assert RebalanceBatch.objects.count() == 6


@pytest.mark.django_db
def test_a_refused_request_does_not_take_the_key(api: APIClient) -> None:
    refused = post(api, {"per_world": {"w1": [{"symbol": "AAPL"}]}}, key="fix-and-retry")
    assert refused.status_code == 422
    assert refused.json()["code"] == "E_INVALID_ORDERS"
    assert not IdempotencyKey.objects.exists()
    assert len(batch_ids(post(api, BODY, key="fix-and-retry"))) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, " padded", "tab\there"])
def test_a_malformed_key_is_refused(api: APIClient, key: str) -> None:
    response = post(api, BODY, key=key)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "E_INVALID_IDEMPOTENCY_KEY"
    assert not RebalanceBatch.objects.exists()


@pytest.mark.django_db
def test_a_key_of_255_characters_is_taken(api: APIClient) -> None:
    assert len(batch_ids(post(api, BODY, key="k" * 255))) == 3


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_make_one_set_of_batches(
    api_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both have found no earlier request and are about to write when they meet; the key's
    unique index lets one write and answers the other with the first one's batches."""

    def submit(client: APIClient) -> Any:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
        return post(client, BODY, key="raced")

    results = race_two(monkeypatch, rebalancing, submit)

    assert [r.status_code for r in results] == [202, 202], [r.json() for r in results]
    assert results[0].json() == results[1].json()
    assert sorted(r.get("Idempotent-Replayed", "") for r in results) == ["", "true"]
    assert RebalanceBatch.objects.count() == 3
    assert OutboxEvent.objects.count() == 3


@pytest.mark.django_db
def test_keys_are_kept_a_day_whatever_the_window_and_pruned_after(api: APIClient) -> None:
    batch_ids(post(api, BODY, key="young"))
    batch_ids(post(api, BODY, key="old"))
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    run = commitlog_prune(days=0)
    assert run.deleted["idempotency keys"] == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]
    # The batches are the business record: they stay.
    assert RebalanceBatch.objects.count() == 6


@pytest.mark.django_db
def test_an_unknown_batch_is_404(api: APIClient) -> None:
    response = api.get("/rebalancing/batches/w1:0123456789abcdef0123456789abcdef")
    assert response.status_code == 404
    assert response.json()["code"] == "E_NOT_FOUND"


@pytest.mark.django_db(transaction=True)
def test_a_batchs_status_follows_it_through_the_log(
    api: APIClient, commitlog: CommitLogSettings
) -> None:
    [batch_id] = batch_ids(
        post(
            api,
            {
                "world_id": "w1",
                "scope": "per_world",
                "orders": [
                    {"symbol": "AAPL", "quantity": 1},
                    {"symbol": "MSFT", "qty": -1, "reduce_only": True},
                ],
            },
        )
    )
    accepted = api.get(f"/rebalancing/batches/{batch_id}").json()
    assert accepted["status"] == "accepted"
    assert accepted["counts"] == {"total": 2, "reduce_only": 1}
    assert accepted["reduce_only_ratio"] == 0.5
    assert (accepted["world_id"], accepted["scope"]) == ("w1", "per_world")
    assert accepted["published_at"] is None
    assert accepted["commitlog_offset"] is None

    relay_all()
    published = api.get(f"/rebalancing/batches/{batch_id}").json()
    assert published["status"] == "published"
    assert published["published_at"] >= accepted["submitted_at"]
    assert published["commitlog_offset"] is not None

    consume_to_end(commitlog)
    recorded = api.get(f"/rebalancing/batches/{batch_id}").json()
    assert recorded["status"] == "recorded"
    assert recorded["recorded_at"] >= published["published_at"]
    assert recorded["commitlog_partition"] == published["commitlog_partition"]
