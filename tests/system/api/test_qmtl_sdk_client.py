"""The unmodified qmtl SDK's way of talking, against gunicorn under the `prod` profile.

The client below speaks as qmtl's `GatewayClient` does: httpx, the credential only in
the URL's userinfo (`http://client:<token>@host`, which httpx turns into HTTP Basic), no
header of its own, `GET /health` first (an empty or failed answer means "gateway
unavailable"), then the submission body built as `_build_strategy_payload` builds it:
`dag_json` (base64 of `json.dumps(dag)`), `meta` (sent even when null),
`node_ids_crc32`, the world ids, and `context` only when there is one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from commitlog.conf import CommitLogSettings
from controlplane.models import StrategySubmission
from controlplane.services.credentials import credential_issue, credential_revoke
from devstack.net import free_port
from tests.support.bodies import crc_of, make_dag
from tests.support.commands import PROD_ENV, TRUSTED_TEST_MACHINE
from tests.support.processes import ChildProcess, database_url, retire, service_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def prod_server(commitlog: CommitLogSettings, celery_broker_url: str) -> Iterator[str]:
    port = free_port()
    env = {
        **PROD_ENV,
        **TRUSTED_TEST_MACHINE,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, for the test
        "DATABASE_URL": database_url(),
        "COMMITLOG_BOOTSTRAP": commitlog.commitlog_bootstrap,
        "COMMITLOG_TOPIC": commitlog.commitlog_topic,
        "CELERY_BROKER_URL": celery_broker_url,
        "RELAY_NUDGE_ENABLED": "false",
    }
    args = ["-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", "1"]  # fmt: skip
    server = service_process(args, env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{base}/healthz", server), 60, "gunicorn to answer")
        yield base
    finally:
        retire(server)


def _answers(url: str, server: ChildProcess) -> bool:
    if not server.alive:
        raise AssertionError(f"gunicorn exited:\n{server.output()}")
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def with_userinfo(base: str, token: str) -> str:
    return base.replace("http://", f"http://client:{token}@", 1)


def sdk_payload(dag: dict[str, Any], meta: dict[str, Any] | None, world_ids: list[str],
                context: dict[str, str] | None = None) -> dict[str, object]:  # fmt: skip
    payload: dict[str, object] = {
        "dag_json": base64.b64encode(json.dumps(dag).encode()).decode(),
        "meta": meta,
        "node_ids_crc32": crc_of([n["node_id"] for n in dag.get("nodes", [])]),
        "world_ids": world_ids,
    }
    if context:
        payload["context"] = context
    return payload


async def sdk_health(gateway_url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(gateway_url.rstrip("/") + "/health")
            response.raise_for_status()
            body = response.json() if response.content else {}
            return body if isinstance(body, dict) else {}
    except Exception:
        return {}


async def sdk_post_strategy(gateway_url: str, payload: dict[str, object]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(gateway_url.rstrip("/") + "/strategies", json=payload)


def test_the_sdks_client_submits_and_hears_its_duplicate(prod_server: str) -> None:
    token = credential_issue(name="qmtl sdk").token
    gateway_url = with_userinfo(prod_server, token)

    health = asyncio.run(sdk_health(gateway_url))
    assert health, "an empty answer makes the SDK go offline"
    assert health["status"] == "ok"
    assert health["rebalance_schema_version"] == 1
    assert health["alpha_metrics_capable"] is False

    dag = make_dag(f"n-{uuid.uuid4().hex}", "n2")
    payload = sdk_payload(dag, {"mode": "backtest"}, ["w1"])
    first = asyncio.run(sdk_post_strategy(gateway_url, payload))
    assert first.status_code == 202, first.text
    ack = first.json()
    # The fields of qmtl's StrategyAck, all present.
    assert set(ack) >= {"strategy_id", "queue_map", "sentinel_id", "node_ids_crc32",
                        "downgraded", "downgrade_reason", "safe_mode"}  # fmt: skip
    assert ack["queue_map"] == {}
    assert ack["sentinel_id"] == f"{ack['strategy_id']}-sentinel"

    again = asyncio.run(sdk_post_strategy(gateway_url, payload))
    assert again.status_code == 409, again.text
    assert again.json() == {
        "code": "E_DUPLICATE",
        "message": again.json()["message"],
        "strategy_id": ack["strategy_id"],
    }


def test_the_sdks_client_with_null_meta_and_a_context(prod_server: str) -> None:
    token = credential_issue(name="qmtl sdk 2").token
    gateway_url = with_userinfo(prod_server, token)
    dag = make_dag(f"n-{uuid.uuid4().hex}")
    payload = sdk_payload(dag, None, ["w1"], {"execution_domain": "live"})
    response = asyncio.run(sdk_post_strategy(gateway_url, payload))
    assert response.status_code == 202, response.text
    assert response.json()["downgraded"] is False


def test_a_revoked_token_in_the_url_is_refused(prod_server: str) -> None:
    issued = credential_issue(name="qmtl sdk revoked")
    credential_revoke(credential=issued.credential)
    payload = sdk_payload(make_dag(f"n-{uuid.uuid4().hex}"), None, ["w1"])
    response = asyncio.run(sdk_post_strategy(with_userinfo(prod_server, issued.token), payload))
    assert response.status_code == 401
    assert response.json()["code"] == "E_UNAUTHENTICATED"


def test_no_credential_is_refused_in_prod(prod_server: str) -> None:
    payload = sdk_payload(make_dag(f"n-{uuid.uuid4().hex}"), None, ["w1"])
    response = asyncio.run(sdk_post_strategy(prod_server, payload))
    assert response.status_code == 401
    assert not StrategySubmission.objects.exists()
