"""The admin in a real browser (Debian's Chromium driven by Playwright) on real data:
log in, open the dashboard and a submission's trace; screenshots go to docs/ only with
WRITE_SCREENSHOTS=1."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from playwright.sync_api import Page, Route, expect, sync_playwright
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from commitlog.models import OutboxEvent, OutboxState
from controlplane.models import RebalanceBatch
from controlplane.services.credentials import credential_issue
from tests.support.bodies import make_dag, submission_body
from tests.support.browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    OPERATOR_PASSWORD,
    log_in_as_operator,
    screenshot_dir,
    seed_through_the_system,
)
from tests.support.flow import relay_all
from tests.support.processes import wait_for

STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
pytestmark = BROWSER_MARKS


def park_as_dead(api: APIClient) -> OutboxEvent:
    """A submission whose outbox row ran out of attempts, as the relay leaves one."""
    body = submission_body(make_dag("browser-dead-a", "browser-dead-b"))
    strategy_id = api.post("/strategies", body, format="json").json()["strategy_id"]
    OutboxEvent.objects.filter(aggregate_id=strategy_id).update(
        state=OutboxState.DEAD, attempts=10, last_error="broker refused: test fault"
    )
    return OutboxEvent.objects.get(aggregate_id=strategy_id)


def api_status(url: str, token: str) -> int:
    assert url.startswith("http://")  # the live server
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


def run_admin_action(page: Page, row_text: str, action: str) -> str:
    """Tick the change list's row showing `row_text`, run `action`, return the message."""
    row = page.locator("#result_list tbody tr", has_text=row_text)
    expect(row).to_have_count(1)
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    message = page.locator(".messagelist .success")
    expect(message).to_be_visible()
    return message.inner_text()


def relayed(outbox_id: int) -> bool:
    relay_all()
    return OutboxEvent.objects.get(pk=outbox_id).state == OutboxState.PUBLISHED


def check_requeue(page: Page, url: str, dead: OutboxEvent) -> None:
    """A dead row requeued by the operator, then published by the relay."""
    page.goto(f"{url}/admin/commitlog/outboxevent/?state__exact=dead")
    expect(page.locator("#result_list")).to_contain_text("broker refused: test fault")
    assert run_admin_action(page, dead.aggregate_id, "requeue_dead") == "Requeued 1 dead row(s)."
    try:
        wait_for(lambda: relayed(dead.pk), 30, "the requeued row to be published")
    finally:
        # The ORM here, inside Playwright's context, has a connection of its own: closed,
        # so that the test database can be dropped at the end of the run.
        connection.close()
    page.goto(f"{url}/admin/commitlog/outboxevent/{dead.pk}/change/")
    expect(page.locator(".field-state .readonly")).to_have_text("published")
    expect(page.locator(".field-published_offset .readonly")).to_have_text(re.compile(r"^\d+$"))


def check_revoke(page: Page, url: str, status_url: str, token: str) -> None:
    """A token revoked by the operator, then refused by the API."""
    page.goto(f"{url}/admin/controlplane/apicredential/?state=active")
    assert run_admin_action(page, "browser client", "revoke") == "Revoked 1 credential(s)."
    page.goto(f"{url}/admin/controlplane/apicredential/?state=revoked")
    expect(page.locator("#result_list tbody tr", has_text="browser client")).to_have_count(1)
    assert api_status(status_url, token) == 401


def check_history(page: Page, records: int) -> None:
    """The dashboard's charts, drawn from the minutes the relay and the consumer wrote."""
    for chart in ("throughput", "backlog", "oldest-pending", "lag", "failures"):
        expect(page.locator(f"svg[data-chart={chart}-hour]")).to_be_visible()
        expect(page.locator(f"svg[data-chart={chart}-day]")).to_be_visible()
    throughput = page.locator("svg[data-chart=throughput-hour]")
    submissions = throughput.locator("g[data-series=submissions]")
    assert submissions.get_attribute("data-total") == "5"
    assert submissions.locator("polyline, circle").count() >= 1
    assert throughput.locator("g[data-series=records]").get_attribute("data-total") == str(records)
    expect(page.locator("#cp-history")).to_contain_text("submissions published: 5 in the last hour")
    expect(page.locator("#cp-history")).to_contain_text(
        f"records applied: {records} in the last hour"
    )
    for source in ("relay", "consumer"):
        assert STAMP.fullmatch(page.inner_text(f"[data-metric={source}-last-batch]"))
    assert page.get_attribute("meta[http-equiv=refresh]", "content") == "300"


def check_api_docs(page: Page, url: str) -> None:
    """Swagger UI from the project's own static files, listing the API's operations."""
    elsewhere: list[str] = []

    def local_only(route: Route) -> None:
        if route.request.url.startswith(url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.goto(f"{url}/api/docs")
    submit = page.locator(".opblock-post", has_text="/strategies").first
    expect(submit).to_be_visible(timeout=20_000)
    expect(submit.locator(".opblock-summary-method")).to_have_text("POST")
    status = page.locator(".opblock-get", has_text="/strategies/{strategy_id}/status")
    expect(status.first).to_be_visible()
    expect(page.locator(".opblock-post", has_text="/rebalancing/batches").first).to_be_visible()
    page.unroute("**/*")
    assert elsewhere == []


def test_operator_logs_in_and_follows_a_submission(
    live_server: Any,
    api: APIClient,
    commitlog: CommitLogSettings,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
) -> None:
    ids = seed_through_the_system(api, commitlog)
    records = len(ids) + RebalanceBatch.objects.count()
    dead = park_as_dead(api)
    client = credential_issue(name="browser client")
    status_url = f"{live_server.url}/strategies/{ids[0]}/status"
    assert api_status(status_url, client.token) == 200
    User.objects.create_superuser("operator", "", OPERATOR_PASSWORD)
    settings.DASHBOARD_REFRESH_SECONDS = 300  # reloads are looked at on their own below
    # Playwright's sync API keeps an event loop in this thread; the ORM is done by now.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shots = screenshot_dir(tmp_path)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            log_in_as_operator(page, live_server.url, "/admin/dashboard/", "#cp-overview")
            assert page.inner_text("[data-metric=submissions-recorded]") == "5"
            assert page.inner_text("[data-metric=outbox-pending]") == "1"
            assert page.inner_text("[data-metric=outbox-dead]") == "1"
            assert "lag 0" in page.inner_text("[data-metric=consumer-lag]")
            check_history(page, records)
            page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

            # The page reloads itself at the configured interval.
            settings.DASHBOARD_REFRESH_SECONDS = 2
            loads: list[str] = []
            page.on("load", lambda _: loads.append(page.url))
            page.reload()
            if len(loads) < 2:
                page.wait_for_event("load", timeout=20_000)
            assert len(loads) >= 2
            settings.DASHBOARD_REFRESH_SECONDS = 300
            page.reload()

            page.click("text=Submissions")
            page.wait_for_selector("#result_list")
            page.click(f"a[href*='{ids[1]}']")
            page.wait_for_selector(".cp-trace")
            trace = page.inner_text(".cp-trace")
            assert "published to Kafka" in trace
            assert "read back by the consumer" in trace
            assert f"{commitlog.commitlog_topic} partition" in trace
            page.screenshot(path=str(shots / "trace.png"), full_page=True)

            check_api_docs(page, live_server.url)

            check_requeue(page, live_server.url, dead)
            check_revoke(page, live_server.url, status_url, client.token)
        finally:
            browser.close()
    assert (shots / "dashboard.png").stat().st_size > 10_000
    assert (shots / "trace.png").stat().st_size > 10_000
