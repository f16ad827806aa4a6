from __future__ import annotations

import base64
import json
import zlib
from typing import Any

import pytest
from rest_framework.test import APIClient

from controlplane.services.credentials import credential_issue


def crc_of(node_ids: list[str]) -> int:
    crc = 0
    for node_id in node_ids:
        crc = zlib.crc32(node_id.encode(), crc)
    return crc & 0xFFFFFFFF


def make_dag(*node_ids: str, **extra: Any) -> dict[str, Any]:
    return {"nodes": [{"node_id": n, "node_type": "Indicator"} for n in node_ids], **extra}


def submission_body(dag: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid POST /strategies body (base64 DAG), with fields overridden as given."""
    dag = dag if dag is not None else make_dag("a", "b", "c")
    body: dict[str, Any] = {
        "dag_json": base64.b64encode(json.dumps(dag).encode()).decode(),
        "meta": {"execution_domain": "live"},
        "world_ids": ["w1"],
        "node_ids_crc32": crc_of([n["node_id"] for n in dag["nodes"]]),
    }
    body.update(overrides)
    return body


@pytest.fixture
def api_token(db: None) -> str:
    return credential_issue(name="test client").token


@pytest.fixture
def api(api_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    return client
