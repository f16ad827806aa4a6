"""API credentials: required, revocable, anonymous only when dev enables it."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from controlplane.models import ApiCredential, StrategySubmission
from controlplane.services import credentials
from controlplane.services.credentials import credential_issue, credential_revoke, hash_token
from tests.support.bodies import submission_body

pytestmark = pytest.mark.django_db

API_CALLS = [
    ("post", "/strategies"),
    ("get", "/strategies/00000000-0000-0000-0000-000000000000/status"),
    ("post", "/rebalancing/batches"),
    ("get", "/api/schema"),
]


@pytest.mark.parametrize(("method", "path"), API_CALLS)
def test_api_calls_without_a_credential_are_401(method: str, path: str) -> None:
    response = getattr(APIClient(), method)(path, {}, format="json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "E_UNAUTHENTICATED"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer cp_wrong", "Bearer", "Bearer a b", "Token nope"])
def test_bad_credentials_are_401(header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post("/strategies", submission_body(), format="json")
    assert response.status_code == 401
    assert StrategySubmission.objects.count() == 0


def test_only_the_hash_of_a_token_is_stored() -> None:
    issued = credential_issue(name="client a")
    stored = ApiCredential.objects.get(pk=issued.credential.pk)
    assert stored.key_hash == hash_token(issued.token)
    assert issued.token not in {stored.key_hash, stored.key_prefix}
    assert issued.token.startswith(stored.key_prefix)


def test_revoked_credential_stops_working() -> None:
    issued = credential_issue(name="client b")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    assert client.post("/strategies", submission_body(), format="json").status_code == 202
    credential_revoke(credential=issued.credential)
    response = client.get("/strategies/00000000-0000-0000-0000-000000000000/status")
    assert response.status_code == 401


def test_a_revocation_by_another_process_applies_once_the_recent_lookup_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issued = credential_issue(name="client e")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    status_url = "/strategies/00000000-0000-0000-0000-000000000000/status"
    monkeypatch.setattr(credentials, "RECENT_SECONDS", 3600.0)
    assert client.get(status_url).status_code == 404
    # What another process's revocation leaves: the row changed, this process not told.
    ApiCredential.objects.filter(pk=issued.credential.pk).update(revoked_at=timezone.now())
    assert client.get(status_url).status_code == 404
    monkeypatch.setattr(credentials, "RECENT_SECONDS", 0.0)
    assert client.get(status_url).status_code == 401


def test_use_is_recorded() -> None:
    issued = credential_issue(name="client c")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    client.get("/strategies/00000000-0000-0000-0000-000000000000/status")
    assert ApiCredential.objects.get(pk=issued.credential.pk).last_used_at is not None


@override_settings(API_ALLOW_ANONYMOUS=True)
def test_dev_may_allow_anonymous_calls_when_enabled() -> None:
    response = APIClient().post("/strategies", submission_body(), format="json")
    assert response.status_code == 202


@override_settings(API_ALLOW_ANONYMOUS=True, IS_PROD=True)
def test_prod_ignores_anonymous_even_if_the_setting_slipped_through() -> None:
    response = APIClient().post("/strategies", submission_body(), format="json")
    assert response.status_code == 401


def test_a_staff_session_sees_the_schema_and_calls_the_api_only_from_the_docs(
    admin_client,
) -> None:
    schema = admin_client.get("/api/schema")
    assert schema.status_code == 200
    assert b"/strategies" in schema.content
    assert admin_client.get("/api/docs").status_code == 200
    response = admin_client.post("/strategies", submission_body(), content_type="application/json")
    assert response.status_code == 401


def test_the_docs_page_serves_its_assets_from_the_project(admin_client) -> None:
    """Offline: Swagger UI's scripts and styles are this process's static files, no CDN."""
    page = admin_client.get("/api/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
    assert assets, page[:500]
    assert all(a.startswith("/static/") for a in assets), assets
    assert "/static/controlplane/api_docs.js" in assets  # the start-up script, not inline
    assert "cdn" not in page.lower()
    for asset in assets:
        response = admin_client.get(asset)
        assert response.status_code == 200, asset
        assert b"".join(response.streaming_content if response.streaming else [response.content])


def test_a_browser_without_login_is_sent_to_the_admin_login_from_the_docs(client) -> None:
    response = client.get("/api/docs", HTTP_ACCEPT="text/html")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=%2Fapi%2Fdocs"


def test_the_docs_page_refuses_a_bad_credential_in_json(client) -> None:
    response = client.get("/api/docs", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert response.json()["code"] == "E_UNAUTHENTICATED"


def test_schema_with_a_credential_documents_every_route(api: APIClient) -> None:
    response = api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/strategies", "/strategies/{strategy_id}/status", "/rebalancing/batches"} <= set(paths)


# --- HTTP Basic: the token as the password, any user name (qmtl's SDK via URL userinfo) ---


def basic(user: str, password: str | None) -> str:
    userinfo = user if password is None else f"{user}:{password}"
    return "Basic " + base64.b64encode(userinfo.encode()).decode()


@pytest.mark.parametrize("user", ["client", "", "anything at all"])
def test_basic_with_the_token_as_password_authenticates(user: str) -> None:
    issued = credential_issue(name="basic client")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(user, issued.token))
    response = client.post("/strategies", submission_body(), format="json")
    assert response.status_code == 202, response.json()
    status = client.get(f"/strategies/{response.json()['strategy_id']}/status")
    assert status.status_code == 200


def test_basic_with_a_revoked_token_is_401() -> None:
    issued = credential_issue(name="basic revoked")
    credential_revoke(credential=issued.credential)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic("client", issued.token))
    response = client.post("/strategies", submission_body(), format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "E_UNAUTHENTICATED"
    assert StrategySubmission.objects.count() == 0


@pytest.mark.parametrize(
    "header",
    [
        basic("client", "cp_not-a-token-we-issued"),
        basic("client", "wrong"),
        basic("client", ""),  # no password
        basic("client", None),  # no colon at all
        "Basic",
        "Basic !!not-base64!!",
        "Basic " + base64.b64encode(b"client:\xff\xfe").decode(),
    ],
    ids=["unknown-token", "wrong", "empty-password", "no-password", "bare", "bad-b64", "non-ascii"],
)
def test_basic_without_a_valid_token_is_401_and_writes_nothing(header: str) -> None:
    credential_issue(name="someone else")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post("/strategies", submission_body(), format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "E_UNAUTHENTICATED"
    assert StrategySubmission.objects.count() == 0


def test_basic_with_the_token_as_user_name_is_refused() -> None:
    """`http://TOKEN@host` sends the token as the user name, with no password."""
    issued = credential_issue(name="token as user")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic(issued.token, ""))
    assert client.post("/strategies", submission_body(), format="json").status_code == 401
