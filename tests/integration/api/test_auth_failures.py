"""Failed authentications throttled per client address before any database lookup (real
PostgreSQL, real Redis): a malformed token is refused without a lookup; past
API_AUTH_FAILURE_RATE an address hears 429 without one; other addresses are not held."""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from controlplane.services.credentials import TOKEN_PREFIX, credential_issue

pytestmark = pytest.mark.django_db

FAILURES = 5
CREDENTIALS_TABLE = "controlplane_apicredential"


def fail_rate(settings: Any, rate: tuple[int, float] | None = (FAILURES, 86400.0)) -> None:
    settings.API_LIMITS = replace(settings.API_LIMITS, auth_failure_rate=rate)


def guess() -> str:
    """A token of the right shape that no credential has."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def call(token: str, address: str = "203.0.113.7", **headers: str) -> tuple[Any, int]:
    """The status read with `token` from `address`, and the lookups of credentials it made."""
    client = APIClient(REMOTE_ADDR=address)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            "/strategies/x/status", HTTP_AUTHORIZATION=f"Bearer {token}", **headers
        )
    lookups = [q["sql"] for q in queries.captured_queries if CREDENTIALS_TABLE in q["sql"]]
    return response, len(lookups)


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert response.json()["code"] == "E_THROTTLED"
    assert 1 <= int(response["Retry-After"]) <= 86400


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        TOKEN_PREFIX + "short",
        TOKEN_PREFIX + "a" * 44,  # one character too many
        "xx_" + "a" * 43,  # the length, another prefix
        TOKEN_PREFIX + "a" * 42 + "!",  # a character token_urlsafe never makes
    ],
)
def test_a_malformed_token_is_refused_without_a_lookup(
    token: str, redis_cache: str, settings: Any
) -> None:
    fail_rate(settings)
    response, lookups = call(token)
    assert response.status_code == 401
    assert lookups == 0


def test_a_malformed_basic_password_is_refused_without_a_lookup(
    redis_cache: str, settings: Any
) -> None:
    fail_rate(settings)
    basic = base64.b64encode(b"client:guess").decode()
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/strategies/x/status", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 401
    assert not [q for q in queries.captured_queries if CREDENTIALS_TABLE in q["sql"]]


def test_past_the_rate_an_address_hears_429_before_any_lookup(
    redis_cache: str, settings: Any
) -> None:
    fail_rate(settings)
    found = [call(guess()) for _ in range(FAILURES)]
    assert [(r.status_code, n) for r, n in found] == [(401, 1)] * FAILURES
    for _ in range(20):
        response, lookups = call(guess())
        assert_throttled(response)
        assert lookups == 0
    # Malformed tokens count too, and are held the same way.
    assert_throttled(call("not-a-token")[0])

    # Another address is not held, and a good token from it works.
    assert call(guess(), address="198.51.100.2")[0].status_code == 401
    token = credential_issue(name="desk").token
    assert call(token, address="198.51.100.2")[0].status_code == 404


def test_malformed_tokens_fill_the_count_as_lookups_do(redis_cache: str, settings: Any) -> None:
    fail_rate(settings)
    assert [call("bad")[0].status_code for _ in range(FAILURES)] == [401] * FAILURES
    response, lookups = call(guess())
    assert_throttled(response)
    assert lookups == 0


def test_the_count_is_in_redis_and_shared(redis_cache: str, settings: Any) -> None:
    import redis

    fail_rate(settings)
    for _ in range(3):
        call(guess())
    server = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    [key] = server.keys(f"{redis_cache}:*authfail:203.0.113.7:*")
    assert int(server.get(key) or 0) == 3


def test_without_redis_each_process_counts_its_share(refused_cache: None, settings: Any) -> None:
    fail_rate(settings, (FAILURES * 2, 86400.0))
    settings.API_LIMITS = replace(settings.API_LIMITS, local_divisor=2)
    found = [call(guess()) for _ in range(FAILURES)]
    assert [(r.status_code, n) for r, n in found] == [(401, 1)] * FAILURES
    response, lookups = call(guess())
    assert_throttled(response)
    assert lookups == 0


def test_the_forwarded_address_is_believed_only_behind_the_trusted_proxy(
    redis_cache: str, settings: Any
) -> None:
    fail_rate(settings)
    # Untrusted: a client choosing X-Forwarded-For still counts as its own address.
    settings.TRUSTED_PROXY = False
    for i in range(FAILURES):
        call(guess(), HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert_throttled(call(guess(), HTTP_X_FORWARDED_FOR="192.0.2.99")[0])
    # Behind nginx, which sets the header to the client's address: one count per client.
    settings.TRUSTED_PROXY = True
    for _ in range(FAILURES):
        assert (
            call(guess(), address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1")[0].status_code
            == 401
        )
    assert_throttled(call(guess(), address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1")[0])
    assert call(guess(), address="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.2")[0].status_code == 401


def test_a_known_credential_is_not_held_by_failures_of_its_own_address_once_found(
    redis_cache: str, settings: Any
) -> None:
    fail_rate(settings)
    token = credential_issue(name="desk").token
    assert call(token)[0].status_code == 404  # found, and kept for a few seconds
    for _ in range(FAILURES):
        call(guess())
    response, lookups = call(token)
    assert (response.status_code, lookups) == (404, 0)


def test_rate_off_counts_nothing(redis_cache: str, settings: Any) -> None:
    fail_rate(settings, None)
    found = [call(guess()) for _ in range(FAILURES + 3)]
    assert [(r.status_code, n) for r, n in found] == [(401, 1)] * (FAILURES + 3)
