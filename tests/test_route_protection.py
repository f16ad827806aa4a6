"""Every route, enumerated from the URL resolver: API routes need a credential under the
prod rules, admin routes need a staff login. A new unprotected route fails this test."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC = {"/healthz", "/readyz"}  # probes: documented as public, they reveal nothing
SAMPLE = {"int": "1", "str": "sample", "uuid": "00000000-0000-0000-0000-000000000000"}
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _walk(patterns: list[Any], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for pattern in patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            paths += _walk(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            paths.append(text)
    return paths


def concrete(route: str) -> str:
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    route = CONVERTER.sub(lambda m: SAMPLE.get(m.group(1) or "str", "sample"), route)
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)  # admin's regex routes
    return "/" + route.replace("^", "").replace("$", "")


ROUTES = sorted({concrete(route) for route in _walk(get_resolver().url_patterns)})
ADMIN_PUBLIC = {"/admin/login/", "/admin/logout/"}  # the way in, and out
ADMIN = [route for route in ROUTES if route.startswith("/admin/") and route not in ADMIN_PUBLIC]
API = [route for route in ROUTES if not route.startswith("/admin/") and route not in PUBLIC]


def test_enough_routes_were_found() -> None:
    assert len(ROUTES) > 10
    assert {"/strategies", "/rebalancing/batches", "/metrics", "/api/schema"} <= set(API)


@pytest.mark.parametrize("path", API)
@override_settings(IS_PROD=True, API_ALLOW_ANONYMOUS=False)
def test_api_routes_need_a_credential(path: str) -> None:
    client = Client()
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code in (401, 405), (method, path, response.status_code)
        if response.status_code == 405:  # the method does not exist: still never served
            continue
        assert response.status_code == 401


@pytest.mark.parametrize("path", ADMIN)
def test_admin_routes_need_a_staff_login(path: str) -> None:
    anonymous = Client().get(path)
    assert anonymous.status_code in (302, 404), (path, anonymous.status_code)
    if anonymous.status_code == 302:
        assert "/admin/login/" in anonymous["Location"]

    User.objects.create_user("not-staff", password="a-long-password-1")
    viewer = Client()
    viewer.login(username="not-staff", password="a-long-password-1")
    assert viewer.get(path).status_code in (302, 404), path
