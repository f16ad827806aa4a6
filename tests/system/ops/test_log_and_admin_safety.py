"""No value forges a log line (the one formatter of every process, and a real server's
output), and the admin's links survive any stored id (real PostgreSQL)."""

from __future__ import annotations

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
