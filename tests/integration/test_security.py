"""Security checks (issue 7): every route the URL resolver knows is protected, prod refuses
to start without a secret key, the body and depth limits hold on every write route, SQL
never gets request data spliced into its text, a Host outside ALLOWED_HOSTS is refused
and static paths do not leave the static files.

The routes come from `get_resolver()`, not from a list in this file: a new route that
answers without a credential (API) or a staff login (admin) fails these tests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from commitlog.models import OutboxEvent
from controlplane.models import RebalanceBatch, StrategySubmission
from tests.support.bodies import submission_body
from tests.support.routes import (
    ADMIN_ROUTES,
    API_ROUTES,
    PUBLIC_PROBES,
)

# --- Every route, from the resolver --------------------------------------------------------


METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


@pytest.mark.django_db
@pytest.mark.parametrize("anonymous_allowed", [False, True])
@pytest.mark.parametrize("path", API_ROUTES)
def test_api_routes_answer_401_without_a_credential_under_prod_rules(
    path: str, anonymous_allowed: bool
) -> None:
    # prod's rules, read at request time; True is refused at start-up in prod, and even
    # if it slipped through it must not open the API.
    with override_settings(IS_PROD=True, API_ALLOW_ANONYMOUS=anonymous_allowed):
        for credential in (None, "Bearer cp_not_a_real_token", "Basic dXNlcjpwYXNz"):
            client = Client(HTTP_AUTHORIZATION=credential) if credential else Client()
            for method in METHODS:
                response = getattr(client, method)(path)
                if path == "/api/docs" and credential is None and method in ("get", "head"):
                    # A browser page: the visitor is sent to log in, and nothing is shown.
                    assert response.status_code == 302, (method, credential)
                    assert response["Location"].startswith("/admin/login/?next=")
                    continue
                assert response.status_code == 401, (method, path, credential)
                assert response["WWW-Authenticate"].startswith("Bearer"), (method, path)
                if response["Content-Type"] == "application/json" and method != "head":
                    assert response.json()["code"] == "E_UNAUTHENTICATED", (method, path)


def logged_in(**flags: bool) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("someone", **flags))  # no password: no hashing
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", API_ROUTES)
def test_a_logged_in_non_staff_user_gets_no_api_route(path: str) -> None:
    client = logged_in()
    with override_settings(IS_PROD=True, API_ALLOW_ANONYMOUS=False):
        for method in ("get", "post"):
            assert getattr(client, method)(path).status_code in (401, 403), (method, path)


@pytest.mark.django_db
@pytest.mark.parametrize("path", API_ROUTES)
def test_api_routes_let_a_credential_through(path: str, api_token: str) -> None:
    """The control: the 401s above come from the missing credential, not from the path."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    with override_settings(IS_PROD=True, API_ALLOW_ANONYMOUS=False):
        answers = {getattr(client, method)(path).status_code for method in ("get", "post")}
    assert answers.isdisjoint({401, 403}), (path, answers)


@pytest.mark.django_db
@override_settings(IS_PROD=True, API_ALLOW_ANONYMOUS=False)
def test_public_probes_answer_anonymously_and_say_nothing_secret() -> None:
    for path in sorted(PUBLIC_PROBES):
        response = Client().get(path)
        expected = {"/": (404,), "/admin": (302,)}.get(path, (200, 503))
        assert response.status_code in expected, path
        text = response.content.decode()
        assert "postgres://" not in text
        assert "SECRET" not in text.upper()


def _is_login_redirect(response: Any) -> bool:
    return bool(response.status_code == 302 and response["Location"].startswith("/admin/login/"))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_admin_routes_send_anonymous_users_to_the_login_page(path: str) -> None:
    # Stricter than "never 200": even unknown objects and pages redirect to the login.
    for method in ("get", "post"):
        response = getattr(Client(), method)(path)
        assert _is_login_redirect(response), (method, path, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_a_logged_in_non_staff_user_cannot_reach_admin_pages(path: str) -> None:
    client = logged_in(is_staff=False)
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert _is_login_redirect(response), (method, path, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_admin_routes_open_to_staff(path: str) -> None:
    """The control: a superuser is not sent to the login page, so the redirects above come
    from who is asking, not from the sample path."""
    client = logged_in(is_staff=True, is_superuser=True)
    assert not _is_login_redirect(client.get(path)), path


# --- Body size and JSON depth on every write route -------------------------------------------

LIMIT = 4096
WRITE_ROUTES = ["/strategies", "/rebalancing/batches"]


def _depth(value: Any) -> int:
    """JSON nesting depth (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            stack += [
                (child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)
            ]
    return deepest


def valid_body(route: str, extra: Any = None) -> dict[str, Any]:
    """A body the route accepts, carrying `extra` where free-form JSON is allowed."""
    if route == "/strategies":
        return submission_body(meta={"execution_domain": "live", "extra": extra})
    return {
        "world_id": "w1",
        "scope": "per_world",
        "orders": [{"symbol": "A", "qty": 1, "x": extra}],
    }


def body_of_size(route: str, size: int) -> bytes:
    base = json.dumps(valid_body(route, "")).encode()
    body = json.dumps(valid_body(route, "x" * (size - len(base)))).encode()
    assert len(body) == size
    return body


def body_of_depth(route: str, depth: int) -> bytes:
    nested: Any = 0
    for _ in range(depth - _depth(valid_body(route, nested))):
        nested = [nested]
    assert _depth(valid_body(route, nested)) == depth
    return json.dumps(valid_body(route, nested)).encode()


def _rows() -> tuple[int, int, int]:
    return (
        StrategySubmission.objects.count(),
        RebalanceBatch.objects.count(),
        OutboxEvent.objects.count(),
    )


def post(client: Client, route: str, body: bytes, **extra: Any) -> Any:
    return client.generic("POST", route, body, content_type="application/json", **extra)


@pytest.fixture
def client(api_token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token}")


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
@override_settings(API_MAX_BODY_BYTES=LIMIT)
def test_bodies_over_the_limit_are_413_and_write_nothing(client: Client, route: str) -> None:
    at_limit = post(client, route, body_of_size(route, LIMIT))
    assert at_limit.status_code == 202, at_limit.json()  # the limit itself is allowed
    before = _rows()
    for size in (LIMIT + 1, 10 * LIMIT):
        response = post(client, route, body_of_size(route, size))
        assert response.status_code == 413, size
        assert response.json()["code"] == "E_PAYLOAD_TOO_LARGE"
        assert _rows() == before


# Django's own cap (DATA_UPLOAD_MAX_MEMORY_SIZE) trips while DRF reads the body: the API's
# exception handler must still answer a coded 413 (it once let Django answer an HTML 400).


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_bodies_over_the_default_limit_are_a_coded_413(client: Client, route: str) -> None:
    response = post(client, route, body_of_size(route, 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "E_PAYLOAD_TOO_LARGE"
    assert _rows() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_a_declared_length_over_the_limit_is_a_coded_413(client: Client, route: str) -> None:
    response = post(client, route, b"{}", CONTENT_LENGTH=str(10**12))
    assert response.status_code == 413
    assert response.json()["code"] == "E_PAYLOAD_TOO_LARGE"
    assert _rows() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_bodies_over_the_default_limit_are_refused_and_write_nothing(
    client: Client, route: str
) -> None:
    """What holds today despite the bug above: refused before parsing, nothing written."""
    for extra, body in [
        ({}, body_of_size(route, 1024 * 1024 + 1)),
        ({"CONTENT_LENGTH": str(10**12)}, b"{}"),
    ]:
        response = post(client, route, body, **extra)
        assert response.status_code in (400, 413)
        assert _rows() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_json_deeper_than_the_limit_is_422_and_writes_nothing(client: Client, route: str) -> None:
    at_limit = post(client, route, body_of_depth(route, 64))
    assert at_limit.status_code == 202, at_limit.json()
    before = _rows()
    for body in [
        body_of_depth(route, 65),
        body_of_depth(route, 500),
        b"[" * 200_000 + b"]" * 200_000,  # deeper than Python's parser can go
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    ]:
        response = post(client, route, body)
        assert response.status_code == 422, len(body)
        assert response.json()["code"] == "E_JSON_TOO_DEEP"
        assert _rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
@pytest.mark.parametrize(
    "body", [b"", b"{", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe{}", b"{}garbage"]
)
def test_bodies_that_are_not_json_are_400(client: Client, route: str, body: bytes) -> None:
    response = post(client, route, body)
    if body == b"":  # no body at all: nothing to parse, so the fields are missing
        assert response.status_code == 422
    else:
        assert response.status_code == 400
        assert response.json()["code"] == "E_MALFORMED_JSON"
    assert _rows() == (0, 0, 0)


# --- The Host header ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["evil.example", "cp.example.evil.example", "cp.example@evil"])
def test_a_host_outside_allowed_hosts_is_400_and_writes_nothing(host: str) -> None:
    """Nothing is answered for, or built from, a host the operator did not list."""
    body = json.dumps(submission_body())
    with override_settings(ALLOWED_HOSTS=["cp.example"]):
        client = Client(HTTP_AUTHORIZATION="Bearer cp_not_a_real_token")
        for response in (
            client.get("/healthz", HTTP_HOST=host),
            client.post("/strategies", body, content_type="application/json", HTTP_HOST=host),
            Client().get("/admin/login/", HTTP_HOST=host),
        ):
            assert response.status_code == 400, (host, response)
            assert host.encode() not in response.content
        assert Client().get("/healthz", HTTP_HOST="cp.example").status_code == 200
    assert OutboxEvent.objects.count() == 0


# --- Static files ---------------------------------------------------------------------------

TRAVERSALS = [
    "/static/../manage.py",
    "/static/%2e%2e/manage.py",
    "/static/..%2fmanage.py",
    "/static/controlplane/..%2f..%2f..%2fmanage.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", TRAVERSALS)
def test_static_paths_do_not_leave_the_static_files(path: str) -> None:
    """whitenoise, as dev and the tests run it (from the apps' static folders)."""
    assert Client().get("/static/controlplane/api_docs.js").status_code == 200  # served
    response = Client().get(path)
    content = response.getvalue()  # streamed or not
    assert response.status_code == 404, (path, response.status_code)
    assert b"DJANGO_SETTINGS_MODULE" not in content
    assert b"root:" not in content
