"""The operators' admin: staff login, lists, filters, search, readable JSON, credentials."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent
from controlplane.models import ApiCredential, RebalanceBatch, StrategySubmission
from controlplane.services.credentials import credential_authenticate
from tests.support.admin_pages import ADMIN_PAGES
from tests.support.bodies import make_dag, submission_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(api: APIClient) -> str:
    body = submission_body(
        make_dag("a", "b"),
        world_ids=["alpha", "beta"],
        meta={"execution_domain": "paper", "as_of": "2025-01-01", "note": "<b>hi</b>"},
    )
    strategy_id: str = api.post("/strategies", body, format="json").json()["strategy_id"]
    api.post(
        "/rebalancing/batches",
        {"world_id": "alpha", "scope": "per_world", "orders": [{"symbol": "A", "quantity": 1}]},
        format="json",
    )
    return strategy_id


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_needs_a_staff_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_non_staff_user_cannot_use_the_admin(client: Client) -> None:
    client.force_login(User.objects.create_user("viewer", password="pw-123-long"))
    response = client.get("/admin/controlplane/strategysubmission/")
    assert response.status_code == 302


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_render_for_staff(admin_client: Client, submitted: str, path: str) -> None:
    assert admin_client.get(path).status_code == 200


def test_submission_list_filters_and_search(admin_client: Client, submitted: str) -> None:
    base = "/admin/controlplane/strategysubmission/"
    assert submitted in admin_client.get(base + "?status__exact=accepted").content.decode()
    assert submitted not in admin_client.get(base + "?status__exact=recorded").content.decode()
    # any of the submission's worlds matches, not only the first
    assert submitted in admin_client.get(base + "?world=beta").content.decode()
    assert submitted not in admin_client.get(base + "?world=gamma").content.decode()
    by_domain = admin_client.get(base + "?execution_domain__exact=dryrun").content.decode()
    assert submitted in by_domain
    dag_hash = StrategySubmission.objects.get().dag_hash
    assert submitted in admin_client.get(base + f"?q={dag_hash}").content.decode()
    assert submitted in admin_client.get(base + f"?q={submitted}").content.decode()
    assert submitted not in admin_client.get(base + "?q=" + "0" * 64).content.decode()


def test_submission_detail_shows_escaped_pretty_json_and_links_the_outbox_row(
    admin_client: Client, submitted: str
) -> None:
    page = admin_client.get(f"/admin/controlplane/strategysubmission/{submitted}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "&quot;execution_domain&quot;: &quot;dryrun&quot;" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "<b>hi</b>" not in html
    outbox = OutboxEvent.objects.get(aggregate_id=submitted)
    assert f"/admin/commitlog/outboxevent/{outbox.pk}/change/" in html


def test_outbox_row_detail_shows_the_decoded_record(admin_client: Client, submitted: str) -> None:
    outbox = OutboxEvent.objects.get(aggregate_id=submitted)
    html = admin_client.get(f"/admin/commitlog/outboxevent/{outbox.pk}/change/").content.decode()
    assert "gateway.ingest" in html
    assert f"/admin/controlplane/strategysubmission/{submitted}/change/" in html


def test_outbox_list_filters_by_state(admin_client: Client, submitted: str) -> None:
    pending = admin_client.get(
        "/admin/commitlog/outboxevent/?state__exact=pending"
    ).content.decode()
    assert f"ingest:{submitted}" in pending or submitted in pending
    dead = admin_client.get("/admin/commitlog/outboxevent/?state__exact=dead").content.decode()
    assert submitted not in dead


def test_log_rows_cannot_be_edited_or_deleted(admin_client: Client, submitted: str) -> None:
    batch = RebalanceBatch.objects.get()
    for url in (
        f"/admin/controlplane/strategysubmission/{submitted}/delete/",
        f"/admin/controlplane/rebalancebatch/{batch.pk}/delete/",
        "/admin/controlplane/strategysubmission/add/",
        "/admin/commitlog/outboxevent/add/",
    ):
        assert admin_client.get(url).status_code == 403
    response = admin_client.post(
        f"/admin/controlplane/strategysubmission/{submitted}/change/", {"status": "recorded"}
    )
    assert response.status_code == 403
    assert StrategySubmission.objects.get().status == "accepted"


def test_issuing_a_credential_in_the_admin_shows_a_working_token_once(
    admin_client: Client,
) -> None:
    response = admin_client.post(
        "/admin/controlplane/apicredential/add/", {"name": "research desk"}, follow=True
    )
    assert response.status_code == 200
    match = re.search(r"(cp_[A-Za-z0-9_\-]+)", response.content.decode())
    assert match is not None
    token = match.group(1)
    credential = credential_authenticate(token)
    assert credential is not None
    assert credential.name == "research desk"
    again = admin_client.get(f"/admin/controlplane/apicredential/{credential.pk}/change/")
    assert token not in again.content.decode()


def test_revoking_from_the_admin_disables_the_token(admin_client: Client, api_token: str) -> None:
    credential = ApiCredential.objects.get()
    response = admin_client.post(
        "/admin/controlplane/apicredential/",
        {"action": "revoke", "_selected_action": [credential.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert credential_authenticate(api_token) is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert client.post("/strategies", submission_body(), format="json").status_code == 401


def test_lists_show_every_world_and_times_to_the_second_with_the_zone(
    admin_client: Client, submitted: str
) -> None:
    page = admin_client.get("/admin/controlplane/strategysubmission/").content.decode()
    assert "alpha, beta" in page
    submission = StrategySubmission.objects.get(strategy_id=submitted)
    assert submission.submitted_at.strftime("%Y-%m-%d %H:%M:%S UTC") in page


def test_credentials_read_in_plain_words(admin_client: Client, api_token: str) -> None:
    revoked = ApiCredential.objects.create(name="old one", key_prefix="cp_x", key_hash="0" * 64)
    ApiCredential.objects.filter(pk=revoked.pk).update(revoked_at="2026-01-01T00:00:00Z")
    assert "API credentials" in admin_client.get("/admin/").content.decode()
    page = admin_client.get("/admin/controlplane/apicredential/?state=revoked").content.decode()
    assert "old one" in page
    assert "test client" not in page
    active = admin_client.get("/admin/controlplane/apicredential/?state=active").content.decode()
    assert "test client" in active
    assert "old one" not in active
    assert "Empty" not in admin_client.get("/admin/controlplane/apicredential/").content.decode()


def test_the_outbox_list_shows_and_filters_the_last_error(
    admin_client: Client, submitted: str
) -> None:
    failing = OutboxEvent.objects.filter(event="gateway.ingest").first()
    assert failing is not None
    OutboxEvent.objects.filter(pk=failing.pk).update(last_error="KafkaError: broker down " * 10)
    page = admin_client.get("/admin/commitlog/outboxevent/?error=yes").content.decode()
    assert "KafkaError: broker down" in page
    assert f"/admin/commitlog/outboxevent/{failing.pk}/change/" in page
    others = admin_client.get("/admin/commitlog/outboxevent/?error=no").content.decode()
    assert f"/admin/commitlog/outboxevent/{failing.pk}/change/" not in others


def test_the_batch_id_help_text_shows_its_shape(admin_client: Client, submitted: str) -> None:
    batch = RebalanceBatch.objects.first()
    assert batch is not None
    page = admin_client.get(f"/admin/controlplane/rebalancebatch/{batch.pk}/change/")
    assert "a colon and 32 hex digits" in page.content.decode()
