"""Smaller findings of an attacker's hour: a world id that NFKC folding changes is
refused (it would look like another world in the admin), a batch whose world holds `/`
is readable, and a login whose `next` is unsafe lands on the admin's index. Real
PostgreSQL."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from controlplane.models import RebalanceBatch, StrategySubmission
from tests.support.bodies import submission_body

pytestmark = pytest.mark.django_db

FULLWIDTH_WB = "\uff57\uff42"
ORDER = {"symbol": "A", "quantity": 1}


def test_a_fullwidth_world_id_is_refused_with_its_folded_form(api: APIClient) -> None:
    response = api.post("/strategies", submission_body(world_ids=[FULLWIDTH_WB]), format="json")
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "E_INVALID_ID"
    assert "write it as 'wb'" in response.json()["message"]
    batch = {"world_id": FULLWIDTH_WB, "scope": "per_world", "orders": [ORDER]}
    refused = api.post("/rebalancing/batches", batch, format="json")
    assert refused.status_code == 422, refused.json()
    assert StrategySubmission.objects.count() == RebalanceBatch.objects.count() == 0


def test_a_batch_whose_world_holds_a_slash_is_readable(api: APIClient) -> None:
    batch = {"world_id": "desk/eu", "scope": "per_world", "orders": [ORDER]}
    accepted = api.post("/rebalancing/batches", batch, format="json")
    assert accepted.status_code == 202, accepted.json()
    batch_id = accepted.json()["batches"][0]["batch_id"]
    for path in (batch_id, quote(batch_id, safe="")):
        read = api.get(f"/rebalancing/batches/{path}")
        assert read.status_code == 200, (path, read.json())
        assert read.json()["batch_id"] == batch_id


def test_a_login_with_an_unsafe_next_lands_on_the_admin_index() -> None:
    User.objects.create_superuser("op", password="a-long-password-for-op")
    client = Client()
    response = client.post(
        "/admin/login/?next=https://evil.example/",
        {"username": "op", "password": "a-long-password-for-op",
         "next": "https://evil.example/"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
