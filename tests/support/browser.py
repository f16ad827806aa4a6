"""Chromium and the operator's login, for the browser tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from tests.support.bodies import make_dag, submission_body
from tests.support.flow import consume_to_end, relay_all
from tests.support.paths import ROOT

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "docs" / "screenshots"


def screenshot_dir(tmp_path: Path) -> Path:
    """docs/screenshots only when asked (WRITE_SCREENSHOTS=1): a test run changes no
    tracked file otherwise."""
    if os.environ.get("WRITE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


# Flags for a sandboxed CI machine with no network beyond localhost.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


OPERATOR_PASSWORD = "operator-pass-123"


def log_in_as_operator(page: Page, base_url: str, next_path: str, ready: str) -> None:
    """Through the admin's login form, as the superuser `operator`, then wait for `ready`."""
    page.goto(f"{base_url}/admin/login/?next={next_path}")
    page.fill("#id_username", "operator")
    page.fill("#id_password", OPERATOR_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(ready)


# The browser tests' marks: transactional, Chromium present (their folder makes them system).
BROWSER_MARKS = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason="Debian's chromium is not installed (bin/test does it)",
    ),
]


def seed_through_the_system(api: APIClient, commitlog: CommitLogSettings) -> list[str]:
    """Submissions and batches through the REST API, the relay and the consumer."""
    domains = ["live", "paper", "backtest", "shadow", None]
    ids = []
    for index, domain in enumerate(domains):
        meta = {"version": f"2.{index}", "as_of": "2026-11-01"} if index % 2 == 0 else {}
        if domain:
            meta["execution_domain"] = domain
        body = submission_body(
            make_dag(f"browser-{index}-a", f"browser-{index}-b"),
            meta=meta,
            world_ids=[["crypto-eu"], ["crypto-eu", "fx"], ["equities"]][index % 3],
        )
        ids.append(api.post("/strategies", body, format="json").json()["strategy_id"])
    api.post(
        "/rebalancing/batches",
        {
            "per_world": {"crypto-eu": [{"symbol": "BTC-EUR", "quantity": 1}]},
            "global": [{"symbol": "SPY", "qty": -3, "reduce_only": True}],
        },
        format="json",
    )
    relay_all()
    consume_to_end(commitlog)
    # One more, still pending, so the dashboard shows a backlog too.
    api.post("/strategies", submission_body(make_dag("browser-pending")), format="json")
    return ids
