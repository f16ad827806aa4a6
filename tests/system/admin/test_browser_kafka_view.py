"""The "In the log" panel in a real browser (Debian's Chromium driven by Playwright): a
submission that went through the REST API, the relay and the consumer shows its record
with the same bytes; with the broker unreachable the panel shows the error and the page
still renders; the audit's last run is on the dashboard. The screenshot goes to docs/
only with WRITE_SCREENSHOTS=1."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import expect, sync_playwright
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from devstack.net import free_port
from tests.support.bodies import make_dag, submission_body
from tests.support.browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    OPERATOR_PASSWORD,
    log_in_as_operator,
    screenshot_dir,
)
from tests.support.flow import consume_to_end, relay_all

pytestmark = BROWSER_MARKS


def test_the_kafka_view_shows_the_record_and_an_unreachable_broker(
    live_server: Any,
    api: APIClient,
    commitlog: CommitLogSettings,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
) -> None:
    body = submission_body(
        make_dag("view-a", "view-b", "view-c"),
        world_ids=["crypto-eu", "fx"],
        meta={"execution_domain": "live", "version": "2.1"},
    )
    strategy_id = api.post("/strategies", body, format="json").json()["strategy_id"]
    relay_all()
    consume_to_end(commitlog)
    User.objects.create_superuser("operator", "", OPERATOR_PASSWORD)
    # Playwright's sync API keeps an event loop in this thread; the ORM is done by now.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shots = screenshot_dir(tmp_path)
    path = f"/admin/controlplane/strategysubmission/{strategy_id}/change/"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            log_in_as_operator(page, live_server.url, path, "#cp-in-the-log")
            panel = page.locator("#cp-in-the-log")
            expect(panel.locator("[data-verdict=same]")).to_have_text("same bytes")
            expect(panel.locator("[data-log=key]")).to_have_text(f"ingest:{strategy_id}")
            expect(panel.locator("[data-log=signature]")).to_have_text("not signed")
            expect(panel.locator("[data-log=value]")).to_contain_text('"gateway.ingest"')
            panel.screenshot(path=str(shots / "kafka_view.png"))

            # The audit's last run on the dashboard: this flow agrees with the log.
            try:
                call_command("audit_commitlog", "--from-beginning", stdout=StringIO())
            finally:
                connection.close()  # opened inside Playwright's context: see test_browser
            page.goto(f"{live_server.url}/admin/dashboard/")
            expect(page.locator("[data-audit=verdict]")).to_have_text("log and database agree")
            expect(page.locator("[data-audit=matched]")).to_have_text("1")
            page.locator("#cp-audit").screenshot(path=str(tmp_path / "audit.png"))
            page.goto(f"{live_server.url}{path}")

            # Nothing listens at the broker's address now: the panel says so, in time.
            settings.COMMITLOG_BOOTSTRAP = f"127.0.0.1:{free_port()}"
            settings.COMMITLOG_VIEW_TIMEOUT_SECONDS = 1.0
            page.reload()
            error = page.locator("#cp-in-the-log [data-log=error]")
            expect(error).to_contain_text("the broker did not answer within 1 s")
            assert error.get_attribute("data-error-kind") == "unreachable"
            expect(page.locator(".field-strategy_id .readonly")).to_have_text(strategy_id)
            panel.screenshot(path=str(tmp_path / "kafka_view_error.png"))
        finally:
            browser.close()
    assert (shots / "kafka_view.png").stat().st_size > 10_000
    assert (tmp_path / "kafka_view_error.png").stat().st_size > 1_000
