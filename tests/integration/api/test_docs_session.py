"""Try it out on /api/docs with the admin session: an operator who may issue credentials
calls the API from the docs page with its CSRF token; without the token, from elsewhere,
or as staff without that permission, the session is no way in."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from controlplane.models import StrategySubmission
from tests.support.bodies import submission_body

pytestmark = pytest.mark.django_db

DOCS = "http://testserver/api/docs"


def staff(*codenames: str) -> Client:
    user = User.objects.create_user("desk", password="desk-pass-123", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token_of_the_docs_page(client: Client) -> str:
    page = client.get("/api/docs")
    assert page.status_code == 200
    match = re.search(r'data-csrf-token="([^"]+)"', page.content.decode())
    assert match is not None
    return match.group(1)


def submit(client: Client, **headers: str) -> int:
    body = submission_body()
    answer = client.post("/strategies", body, content_type="application/json", headers=headers)
    return answer.status_code


def test_an_operator_tries_the_api_from_the_docs_page(caplog: pytest.LogCaptureFixture) -> None:
    client = staff("add_apicredential")
    token = csrf_token_of_the_docs_page(client)

    assert submit(client, Referer=DOCS, X_CSRFToken=token) == 202
    (submitted,) = StrategySubmission.objects.all()
    assert submitted.credential is None  # no token: no sender, no limits
    status = client.get(f"/strategies/{submitted.strategy_id}/status", headers={"Referer": DOCS})
    assert status.status_code == 200
    assert "event=api_call_from_docs user=desk method=POST path=/strategies" in caplog.text


def test_a_write_without_the_pages_csrf_token_is_refused() -> None:
    client = staff("add_apicredential")
    csrf_token_of_the_docs_page(client)
    assert submit(client, Referer=DOCS) == 403
    assert submit(client, Referer=DOCS, X_CSRFToken="x" * 64) == 403
    assert not StrategySubmission.objects.exists()


@pytest.mark.parametrize(
    "referer",
    [None, "http://testserver/admin/", "http://elsewhere.example/api/docs"],
)
def test_the_session_counts_only_from_the_docs_page(referer: str | None) -> None:
    client = staff("add_apicredential")
    token = csrf_token_of_the_docs_page(client)
    headers = {"X_CSRFToken": token, **({"Referer": referer} if referer else {})}
    assert submit(client, **headers) == 401


def test_staff_who_may_only_read_the_docs_cannot_try_the_api() -> None:
    client = staff("view_strategysubmission")
    token = csrf_token_of_the_docs_page(client)
    assert submit(client, Referer=DOCS, X_CSRFToken=token) == 401
