"""The admin-only middleware passes API calls by and still serves everything else."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIClient

from controlplane.middleware import (
    AdminAuthenticationMiddleware,
    AdminMessageMiddleware,
    AdminSessionMiddleware,
)
from tests.conftest import submission_body

ADDED_ATTRIBUTE: dict[type[Any], str] = {
    AdminSessionMiddleware: "session",
    AdminAuthenticationMiddleware: "user",
    AdminMessageMiddleware: "_messages",
}


@pytest.mark.parametrize("middleware", list(ADDED_ATTRIBUTE))
@pytest.mark.parametrize(
    ("path", "for_api"),
    [
        ("/strategies", True),
        ("/strategies/abc/status", True),
        ("/rebalancing/batches", True),
        ("/admin/", False),
        ("/api/schema", False),
        ("/metrics", False),
        ("/strategiesx", True),  # no such route: the JSON 404 needs no session either
    ],
)
def test_api_paths_pass_the_admin_middleware_by(
    middleware: type[Any], path: str, for_api: bool
) -> None:
    seen: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse("ok")

    chain = (
        AdminSessionMiddleware(view)
        if middleware is AdminSessionMiddleware
        else AdminSessionMiddleware(middleware(view))  # messages and auth need a session
    )
    response = chain(RequestFactory().get(path))
    assert response.status_code == 200
    assert hasattr(seen[0], ADDED_ATTRIBUTE[middleware]) is not for_api


def test_every_admin_middleware_is_in_the_settings() -> None:
    for middleware in ADDED_ATTRIBUTE:
        assert f"controlplane.middleware.{middleware.__name__}" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_an_accepted_submission_sets_no_cookie_and_keeps_the_security_headers(
    api: APIClient,
) -> None:
    response = api.post("/strategies", submission_body(), format="json")
    assert response.status_code == 202
    assert not response.cookies
    assert "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
