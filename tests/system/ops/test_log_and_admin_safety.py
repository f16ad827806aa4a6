"""No value forges a log line (the one formatter of every process, and a real server's
output), and the admin's links survive any stored id (real PostgreSQL)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from controlplane.services.credentials import credential_issue
from tests.support.logs import FORGED
from tests.support.processes import ChildProcess, gunicorn, wait_for


@pytest.fixture
def web_server(
    transactional_db: None, celery_broker_url: str
) -> Iterator[tuple[str, ChildProcess]]:
    with gunicorn({"CELERY_BROKER_URL": celery_broker_url}) as served:
        yield served


def test_a_served_request_cannot_forge_a_log_line(web_server: tuple[str, ChildProcess]) -> None:
    base, server = web_server
    token = credential_issue(name=f"evil\n{FORGED} credential_id=1").token
    path = f"/strategies/x%0A{FORGED.replace(' ', '%20')}/status"
    response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 404
    wait_for(lambda: "event=request_refused" in server.output(), 30, "the refusal's line")
    lines = server.output().splitlines()
    [refused] = [line for line in lines if "event=request_refused" in line]
    assert 'path="/strategies/x\\nts=2026-12-01T' in refused
    assert 'credential="evil\\nts=2026-12-01T' in refused
    assert not [line for line in lines if line.startswith(FORGED)], lines


def test_a_basic_user_name_cannot_forge_an_access_log_line(
    web_server: tuple[str, ChildProcess],
) -> None:
    """gunicorn's access log (`--access-logfile -`, as compose runs it) prints the Basic
    user name it decodes: newlines in it would start lines of the client's choosing."""
    base, server = web_server
    # gunicorn's user name ends at the first colon: a forged line without one.
    forged = FORGED.replace(":", ".")
    user = f"x\n{forged}\n"
    basic = base64.b64encode(f"{user}:cp_x".encode()).decode()
    response = httpx.get(
        f"{base}/strategies/x/status", headers={"Authorization": f"Basic {basic}"}, timeout=10
    )
    assert response.status_code == 401

    def access_logged() -> bool:  # the request line, which only the access log prints
        return any(
            "/strategies/x/status" in line and "HTTP/1.1" in line
            for line in server.output().splitlines()
        )

    wait_for(access_logged, 30, "the access log's line")
    lines = server.output().splitlines()
    assert not [line for line in lines if line.startswith(forged)], lines
    [access] = [line for line in lines if "event=http_request" in line and "/status" in line]
    assert 'user="x\\nts=2026-12-01' in access
