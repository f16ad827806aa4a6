"""The admin in a real browser (Debian's Chromium driven by Playwright) on real data:
log in, open the dashboard and a submission's trace; screenshots go to docs/ only with
WRITE_SCREENSHOTS=1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from controlplane.config import GatewayConfig
from tests.conftest import make_dag, submission_body
from tests.flow import consume_to_end, relay_all

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
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

pytestmark = [
    pytest.mark.system,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason="Debian's chromium is not installed (bin/test does it)",
    ),
]


def seed_through_the_system(api: APIClient, commitlog: GatewayConfig) -> list[str]:
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


def screenshot_dir(tmp_path: Path) -> Path:
    """docs/screenshots only when asked (WRITE_SCREENSHOTS=1): a test run changes no
    tracked file otherwise."""
    if os.environ.get("WRITE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


def test_operator_logs_in_and_follows_a_submission(
    live_server: Any,
    api: APIClient,
    commitlog: GatewayConfig,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    ids = seed_through_the_system(api, commitlog)
    User.objects.create_superuser("operator", "", "operator-pass-123")
    # Playwright's sync API keeps an event loop in this thread; the ORM is done by now.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shots = screenshot_dir(tmp_path)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{live_server.url}/admin/login/?next=/admin/dashboard/")
            page.fill("#id_username", "operator")
            page.fill("#id_password", "operator-pass-123")
            page.click("input[type=submit]")
            page.wait_for_selector("#cp-overview")
            assert page.inner_text("[data-metric=submissions-recorded]") == "5"
            assert page.inner_text("[data-metric=outbox-pending]") == "1"
            assert "lag 0" in page.inner_text("[data-metric=consumer-lag]")
            page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

            page.click("text=Submissions")
            page.wait_for_selector("#result_list")
            page.click(f"a[href*='{ids[1]}']")
            page.wait_for_selector(".cp-trace")
            trace = page.inner_text(".cp-trace")
            assert "published to Kafka" in trace
            assert "read back by the consumer" in trace
            assert f"{commitlog.commitlog_topic} partition" in trace
            page.screenshot(path=str(shots / "trace.png"), full_page=True)
        finally:
            browser.close()
    assert (shots / "dashboard.png").stat().st_size > 10_000
    assert (shots / "trace.png").stat().st_size > 10_000
