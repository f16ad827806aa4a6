"""`GET /health` as qmtl's SDK reads it, and a JSON 404 for every unknown path, in every
profile (with DEBUG on too, where Django would otherwise render its HTML page)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings

pytestmark = pytest.mark.django_db

CAPABILITIES = {"rebalance_schema_version": 1, "alpha_metrics_capable": False}


def test_health_is_public_non_empty_and_carries_qmtls_capability_fields(
    commitlog: CommitLogSettings,
) -> None:
    response = APIClient().get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "postgres": "ok",
        "kafka": "ok",
        **CAPABILITIES,
        "capabilities": CAPABILITIES,
    }


def test_health_is_degraded_but_answers_when_the_broker_does_not(
    commitlog: CommitLogSettings, settings: Any
) -> None:
    settings.COMMITLOG_BOOTSTRAP = "127.0.0.1:1"
    response = APIClient().get("/health")
    assert response.status_code == 200  # qmtl's SDK takes a failed answer for "unavailable"
    body = response.json()
    assert (body["status"], body["postgres"], body["kafka"]) == ("degraded", "ok", "unavailable")
    assert body["rebalance_schema_version"] == 1


def test_health_with_publishing_disabled_is_ok(commitlog: CommitLogSettings, settings: Any) -> None:
    settings.COMMITLOG_BOOTSTRAP = ""
    body = APIClient().get("/health").json()
    assert (body["status"], body["kafka"]) == ("ok", "disabled")


UNKNOWN = [
    ("get", "/"),
    ("get", "/strategies/"),  # a trailing slash
    ("post", "/strategies/"),
    ("get", "/strategies/00000000-0000-0000-0000-000000000000"),
    ("get", "/strategies/00000000-0000-0000-0000-000000000000/status/"),
    ("post", "/rebalancing/batches/"),
    # Other endpoints qmtl's SDK calls, which this service does not offer.
    ("get", "/status"),
    ("post", "/strategies/dry-run"),
    ("get", "/queues/by_tag"),
    ("get", "/worlds/w1"),
    ("get", "/worlds/w1/describe"),
    ("post", "/worlds/w1/policies"),
    ("post", "/strategies/s1/history"),
    ("get", "/allocations"),
    ("get", "/no/such/thing.html"),
]


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize(("method", "path"), UNKNOWN)
def test_unknown_paths_answer_a_json_404(
    settings: Any, debug: bool, method: str, path: str, api_token: str
) -> None:
    settings.DEBUG = debug
    client = Client(enforce_csrf_checks=True)  # a POST hears 404, not a CSRF page
    auth = f"Bearer {api_token}"
    if method == "get":
        response = client.get(path, HTTP_AUTHORIZATION=auth)
    else:
        response = client.post(path, "{}", content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "E_NOT_FOUND"


def test_admin_without_its_slash_still_redirects_to_the_admin(settings: Any) -> None:
    settings.DEBUG = True
    response = Client().get("/admin")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
