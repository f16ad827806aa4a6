"""Example requests, valid as they stand and answered as asked (not downgraded): the
examples of the OpenAPI schema, the curl the admin shows beside a newly issued token and
the one `bin/run` prints."""

from __future__ import annotations

import json
import shlex
from typing import Any

from drf_spectacular.utils import OpenApiExample

from controlplane.domain.dag import node_ids_crc32

STRATEGY_SUBMISSION: dict[str, Any] = {
    "dag_json": json.dumps({"nodes": [{"node_id": "n1"}]}),
    "node_ids_crc32": node_ids_crc32(["n1"]),
    "world_ids": ["demo"],
    # The execution domain qmtl's SDK sends: without one the submission is downgraded to a
    # safe-mode backtest (docs/API.md, "Compute context").
    "meta": {"execution_domain": "live"},
}
BACKTEST_SUBMISSION: dict[str, Any] = {
    "dag_json": {"nodes": [{"node_id": "price"}, {"node_id": "signal"}]},
    "node_ids_crc32": node_ids_crc32(["price", "signal"]),
    "world_ids": ["demo"],
    "meta": {"execution_domain": "backtest", "as_of": "2026-11-01", "version": "1.0"},
}
REBALANCE_BATCH: dict[str, Any] = {
    "world_id": "demo",
    "scope": "per_world",
    "mode": "live",
    "orders": [
        {"symbol": "BTC-USD", "quantity": 0.5},
        {"symbol": "ETH-USD", "qty": -2, "reduce_only": True},
    ],
}
REBALANCE_MULTI_WORLD: dict[str, Any] = {
    "per_world": {"demo": [{"symbol": "BTC-USD", "quantity": 1}]},
    "global": [{"symbol": "SPY", "qty": -5, "reduce_only": True}],
}

# The request bodies /api/docs offers in "Try it out", each one the API accepts. The same
# submission twice is 409 E_DUPLICATE: the second example is another DAG.
SUBMIT_EXAMPLES = [
    OpenApiExample("Live, the DAG as JSON text", value=STRATEGY_SUBMISSION, request_only=True),
    OpenApiExample(
        "Backtest as of a date, the DAG as an object", value=BACKTEST_SUBMISSION, request_only=True
    ),
]
REBALANCE_EXAMPLES = [
    OpenApiExample("One batch", value=REBALANCE_BATCH, request_only=True),
    OpenApiExample("Several worlds and global", value=REBALANCE_MULTI_WORLD, request_only=True),
]


def curl_submit(base_url: str, token: str) -> str:
    """One shell line that submits STRATEGY_SUBMISSION to `base_url` with `token`."""
    return (
        f"curl -s -X POST {shlex.quote(base_url.rstrip('/') + '/strategies')}"
        f" -H {shlex.quote('Authorization: Bearer ' + token)}"
        " -H 'Content-Type: application/json'"
        f" -d {shlex.quote(json.dumps(STRATEGY_SUBMISSION))}"
    )
