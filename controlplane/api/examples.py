"""Example requests, valid as they stand and answered as asked (not downgraded): the
examples of the OpenAPI schema, the curl the admin shows beside a newly issued token and
the one `bin/run` prints."""

from __future__ import annotations

import json
import shlex
from typing import Any

from controlplane.domain.dag import node_ids_crc32

STRATEGY_SUBMISSION: dict[str, Any] = {
    "dag_json": json.dumps({"nodes": [{"node_id": "n1"}]}),
    "node_ids_crc32": node_ids_crc32(["n1"]),
    "world_ids": ["demo"],
    # The execution domain qmtl's SDK sends: without one the submission is downgraded to a
    # safe-mode backtest (docs/API.md, "Compute context").
    "meta": {"execution_domain": "live"},
}


def curl_submit(base_url: str, token: str) -> str:
    """One shell line that submits STRATEGY_SUBMISSION to `base_url` with `token`."""
    return (
        f"curl -s -X POST {shlex.quote(base_url.rstrip('/') + '/strategies')}"
        f" -H {shlex.quote('Authorization: Bearer ' + token)}"
        " -H 'Content-Type: application/json'"
        f" -d {shlex.quote(json.dumps(STRATEGY_SUBMISSION))}"
    )
