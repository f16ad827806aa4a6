"""Demo data for a local run, sent through the real REST API like any client would."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from devstack.bodies import chain_dag, strategy_body

DOMAINS = ["live", "paper", "backtest", "Paper-Trading", "shadow", None]
WORLDS = [["crypto-eu"], ["crypto-eu", "crypto-us"], ["equities"], ["fx", "crypto-eu"]]


def _call(base: str, token: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310  (a local http URL we built)
        f"{base}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_until_up(base: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _strategy(index: int) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    node_ids = [f"demo-{run}-{index}-{name}" for name in ("prices", "sma", "signal")]
    domain = DOMAINS[index % len(DOMAINS)]
    meta: dict[str, Any] = {"version": f"1.{index}", "author": "demo"}
    if domain is not None:
        meta["execution_domain"] = domain
    if index % 3 == 0:
        meta["as_of"] = "2026-11-01"
    dag = chain_dag(node_ids, node_type="Node", name=f"demo {index}")
    return strategy_body(dag, world_ids=WORLDS[index % len(WORLDS)], meta=meta)


def seed(base: str, token: str, strategies: int = 12) -> str:
    """Submit demo strategies and rebalance batches; returns a one-line summary."""
    wait_until_up(base)
    accepted = 0
    for index in range(strategies):
        status, _ = _call(base, token, "/strategies", _strategy(index))
        accepted += status == 202
    batches = 0
    bodies: list[dict[str, Any]] = [
        {
            "world_id": "crypto-eu",
            "scope": "per_world",
            "mode": "live",
            "orders": [
                {"symbol": "BTC-EUR", "quantity": 0.5},
                {"symbol": "ETH-EUR", "quantity": -2, "reduce_only": True},
            ],
        },
        {
            "per_world": {"equities": [{"symbol": "AAPL", "qty": 10}]},
            "global": [{"symbol": "SPY", "qty": -5, "reduce_only": True}],
            "per_strategy": [
                {
                    "world_id": "fx",
                    "strategy_id": "demo-s1",
                    "order": {"symbol": "EURUSD", "qty": 1000},
                }
            ],
            "shared_account": True,
        },
    ]
    for body in bodies:
        status, answer = _call(base, token, "/rebalancing/batches", body)
        if status == 202:
            batches += len(answer["batches"])
    return f"demo: {accepted}/{strategies} strategies accepted, {batches} rebalance batches"
