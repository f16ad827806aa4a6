"""Tenancy in the admin: limits set when a credential is issued and edited later, in force
at once; submissions and batches show who sent them. Real PostgreSQL."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from controlplane.models import ApiCredential, RebalanceBatch, StrategySubmission
from tests.support.bodies import make_dag, submission_body

pytestmark = pytest.mark.django_db

ORDER = {"symbol": "AAPL", "quantity": 1}
CREDENTIALS = "/admin/controlplane/apicredential/"


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _submit(client: APIClient, world: str) -> int:
    body = submission_body(make_dag(f"node-{world}"), world_ids=[world])
    status: int = client.post("/strategies", body, format="json").status_code
    return status


def _issue(admin_client: Client, **fields: object) -> tuple[ApiCredential, str]:
    response = admin_client.post(f"{CREDENTIALS}add/", {"name": "desk", **fields}, follow=True)
    assert response.status_code == 200
    match = re.search(r"(cp_[A-Za-z0-9_\-]+)", response.content.decode())
    assert match is not None, response.content.decode()
    return ApiCredential.objects.get(name="desk"), match.group(1)


def test_limits_set_when_issuing_are_stored_cleaned_and_enforced(admin_client: Client) -> None:
    credential, token = _issue(
        admin_client,
        allowed_worlds="A\r\n  B \r\n\r\nA",
        allowed_scopes=["per_world", "global"],
    )
    assert credential.allowed_worlds == ["A", "B"]
    assert credential.allowed_scopes == ["per_world", "global"]
    client = _client(token)
    assert _submit(client, "B") == 202
    assert _submit(client, "C") == 403
    strategy_entry = {"world_id": "A", "strategy_id": "s", "order": ORDER}
    refused = client.post("/rebalancing/batches", {"per_strategy": [strategy_entry]}, format="json")
    assert refused.status_code == 403
    listing = admin_client.get(CREDENTIALS).content.decode()
    assert "A, B" in listing
    assert "per_world, global" in listing


def test_a_credential_issued_without_limits_is_unlimited(admin_client: Client) -> None:
    credential, token = _issue(admin_client)
    assert (credential.allowed_worlds, credential.allowed_scopes) == ([], [])
    assert _submit(_client(token), "anywhere") == 202
    assert ">all<" in admin_client.get(CREDENTIALS).content.decode()


def test_limits_edited_in_the_admin_apply_at_once(admin_client: Client) -> None:
    credential, token = _issue(admin_client)
    client = _client(token)
    assert _submit(client, "A") == 202  # the credential is now in this process's recent cache
    page = admin_client.get(f"{CREDENTIALS}{credential.pk}/change/").content.decode()
    assert 'name="allowed_worlds"' in page
    response = admin_client.post(
        f"{CREDENTIALS}{credential.pk}/change/", {"allowed_worlds": "C", "allowed_scopes": []}
    )
    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.allowed_worlds == ["C"]
    assert credential.name == "desk"  # set once, when issued
    assert _submit(client, "B") == 403
    assert _submit(client, "C") == 202


def test_a_bad_limit_is_refused_by_the_form_and_changes_nothing(admin_client: Client) -> None:
    credential, _ = _issue(admin_client, allowed_worlds="A")
    response = admin_client.post(
        f"{CREDENTIALS}{credential.pk}/change/",
        {"allowed_worlds": "x" * 201, "allowed_scopes": ["per_world"]},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "longer than 200" in response.content.decode()
    bad_scope = admin_client.post(
        f"{CREDENTIALS}{credential.pk}/change/", {"allowed_worlds": "", "allowed_scopes": ["all"]}
    )
    assert bad_scope.status_code == 200
    credential.refresh_from_db()
    assert (credential.allowed_worlds, credential.allowed_scopes) == (["A"], [])


def test_the_database_refuses_an_unknown_scope() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiCredential.objects.create(
            name="x", key_prefix="cp_x", key_hash="1" * 64, allowed_scopes=["everything"]
        )


def test_lists_and_pages_show_who_sent_each_submission_and_batch(
    admin_client: Client, api: APIClient
) -> None:
    assert _submit(api, "w1") == 202
    batch = {"world_id": "w1", "scope": "per_world", "orders": [ORDER]}
    assert api.post("/rebalancing/batches", batch, format="json").status_code == 202
    submission = StrategySubmission.objects.get()
    batch_row = RebalanceBatch.objects.get()
    sender = ApiCredential.objects.get(name="test client")
    assert submission.credential_id == sender.pk
    assert batch_row.credential_id == sender.pk
    for page in (
        "/admin/controlplane/strategysubmission/",
        f"/admin/controlplane/strategysubmission/{submission.pk}/change/",
        "/admin/controlplane/rebalancebatch/",
        f"/admin/controlplane/rebalancebatch/{batch_row.pk}/change/",
    ):
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert str(sender) in response.content.decode(), page
    filtered = admin_client.get(
        f"/admin/controlplane/strategysubmission/?credential__id__exact={sender.pk + 1000}"
    )
    assert str(submission.pk) not in filtered.content.decode()
