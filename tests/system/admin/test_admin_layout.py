"""Every admin list, the home page and the dashboard in Chromium at 1400 and 1920 pixels,
on rows that went through the system (and dead rows, invalid records and conflicts with
long texts, and ids stored with control and bidirectional characters): one line a row,
nothing clipped, nothing wider than the window. Screenshots go to docs/ only with
WRITE_SCREENSHOTS=1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect, sync_playwright
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from commitlog.models import (
    ConsumerPosition,
    InvalidRecord,
    OutboxEvent,
    OutboxState,
    RecordConflict,
)
from controlplane.models import StrategySubmission
from tests.support.admin_pages import ADMIN_PAGES
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
from tests.support.layout import MEASURE_LIST, MEASURE_OVERVIEW

pytestmark = BROWSER_MARKS

CHANGELISTS = [path for path in ADMIN_PAGES if path != "/admin/"]
# A filter on an unindexed column (config.adminkit.window), over more rows than its window.
WINDOWED = "/admin/controlplane/strategysubmission/?status__exact=recorded"
LONG_ERROR = (
    "KafkaTimeoutError: Failed to update metadata after 10.0 secs: broker "
    "kafka-0.kafka.svc.cluster.local:9092 (id: 0 rack: eu-west-1a) did not answer; "
)


def _long_rows(api: APIClient) -> None:
    """Wide values an operator meets: several long world ids, long errors and reasons."""
    worlds = ["equities-north-america-large-cap", "crypto-eu-derivatives", "fx-majors"]
    api.post("/strategies", submission_body(make_dag("wide"), world_ids=worlds), format="json")
    api.post(
        "/rebalancing/batches",
        {"world_id": worlds[0], "scope": "per_world", "orders": [{"symbol": "AAPL", "qty": 2}]},
        format="json",
    )
    dead = OutboxEvent.objects.order_by("id").first()
    assert dead is not None
    OutboxEvent.objects.filter(pk=dead.pk).update(
        state=OutboxState.DEAD, attempts=10, last_error=LONG_ERROR * 3
    )
    InvalidRecord.objects.create(
        topic="qmtl.services.gateway.commitlog",
        partition=0,
        offset=12345678,
        key=b"ingest:0190c0de",
        value=b"{",
        error="undecodable value: " + LONG_ERROR * 2,
    )
    RecordConflict.objects.create(
        key=f"rebalance:{worlds[0]}:" + "a" * 32,
        event="gateway.rebalance_batch",
        record_id=f"{worlds[0]}:" + "a" * 32,
        reason="already applied with other content; " + LONG_ERROR,
        value=b"{}",
        value_sha256="b" * 64,
        applied_sha256="c" * 64,
        topic="qmtl.services.gateway.commitlog",
        partition=0,
        offset=12345679,
    )


def _unsafe_rows() -> None:
    """Ids and texts stored before the API refused such characters (straight into the
    tables): a right-to-left override, an isolate and terminal escapes."""
    submission = StrategySubmission.objects.order_by("submitted_at").first()
    assert submission is not None
    StrategySubmission.objects.filter(pk=submission.pk).update(
        world_ids=[SPOOFED_WORLD], world_id=SPOOFED_WORLD
    )
    row = OutboxEvent.objects.filter(state=OutboxState.PUBLISHED).order_by("id").first()
    assert row is not None
    OutboxEvent.objects.filter(pk=row.pk).update(
        aggregate_id=SPOOFED_WORLD + ":" + "e" * 32, last_error="\x1b[2Jcleared \u2067x"
    )


SPOOFED_WORLD = "fx\u202elive"
WIDTHS = (1400, 1920)
# Lists whose rows each hold an id shortened with its copy button, and a UTC time.
IDS_PER_ROW = {
    "/admin/controlplane/strategysubmission/": 1,
    "/admin/controlplane/rebalancebatch/": 1,
    "/admin/commitlog/outboxevent/": 1,
    "/admin/commitlog/consumedrecord/": 2,
    "/admin/commitlog/recordconflict/": 2,
}


def _slug(path: str) -> str:
    return path.strip("/").rpartition("/")[2] if path != "/admin/" else "home"


def _list_problems(path: str, found: dict[str, Any]) -> list[str]:
    problems = [
        name
        for name in ("raw", "tallRows", "tallHeaders", "clipped", "badIds", "badTimes")
        if found[name]
    ]
    if found["rows"] == 0:
        problems.append("no rows")
    if found["brokenWords"]:
        problems.append("words broken anywhere")
    if found["table"] > found["box"] or found["page"] > found["window"]:
        problems.append("wider than its box")
    if found["idsPerRow"] < IDS_PER_ROW.get(path, 0):
        problems.append("ids not shortened with a copy button")
    if found["timesPerRow"] < 1:
        problems.append("times not compact UTC")
    return problems


def _overview_problems(path: str, found: dict[str, Any], partitions: int) -> list[str]:
    problems = [name for name in ("raw", "tallRows", "tallHeaders") if found[name]]
    if found["page"] > found["window"]:
        problems.append("wider than the window")
    if path == "/admin/" and not found["dashboardLinks"]:
        problems.append("no link to the dashboard")
    if path == "/admin/dashboard/":
        if found["used"] is None or found["used"] < 0.9:
            problems.append("charts leave the width empty")
        if found["lagRows"] != partitions or found["lagBars"] != partitions:
            problems.append("no lag per partition")
    return problems


def _copied(page: Page) -> tuple[str, str, str]:
    """The first id's copy button clicked: its full id, the clipboard, the page after (a
    click copies, it does not follow the row's link)."""
    cell = page.locator("#result_list .cp-id").first
    full = cell.get_attribute("title") or ""
    page.locator("#result_list .cp-copy").first.click()
    expect(page.locator("#result_list .cp-copy.cp-copied").first).to_be_visible()
    return full, page.evaluate("navigator.clipboard.readText()"), page.url


def test_admin_pages_read_at_a_glance_at_1400_and_1920_pixels(
    live_server: Any,
    api: APIClient,
    commitlog: CommitLogSettings,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
) -> None:
    """Each list one line a row, ids shortened with a tooltip and a copy button, times in
    UTC; the home page's tables on one line and a link to the dashboard; the dashboard's
    charts across the width with the lag per partition; stored control and bidirectional
    characters shown escaped; a filter's window notice on one screen's width."""
    settings.ADMIN_FILTER_SCAN_ROWS = 1  # a windowed filter leaves rows out: the notice shows
    seed_through_the_system(api, commitlog)
    _long_rows(api)
    _unsafe_rows()
    partitions = ConsumerPosition.objects.count()
    first_id = str(StrategySubmission.objects.order_by("-submitted_at").first())
    User.objects.create_superuser("operator", "", OPERATOR_PASSWORD)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM is done by now
    shots = screenshot_dir(tmp_path)

    problems: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in WIDTHS:
                context = browser.new_context(
                    viewport={"width": width, "height": 900},
                    permissions=["clipboard-read", "clipboard-write"],
                )
                page = context.new_page()
                log_in_as_operator(page, live_server.url, "/admin/", "#site-name")
                for path in [*ADMIN_PAGES, "/admin/dashboard/"]:
                    page.goto(f"{live_server.url}{path}")
                    shot = shots / f"admin-{_slug(path)}-{width}.png"
                    if path in CHANGELISTS:
                        page.wait_for_selector("#result_list")
                        found = page.evaluate(MEASURE_LIST)
                        wrong = _list_problems(path, found)
                        sidebar = page.locator('#nav-sidebar a[href$="/admin/dashboard/"]')
                        if sidebar.count() < 1:
                            wrong.append("no dashboard in the sidebar")
                        page.screenshot(path=str(shot))
                    else:
                        found = page.evaluate(MEASURE_OVERVIEW)
                        wrong = _overview_problems(path, found, partitions)
                        page.screenshot(path=str(shot), full_page=True)
                    if wrong:
                        problems[f"{path} at {width}"] = {"problems": wrong, **found}
                page.goto(f"{live_server.url}{WINDOWED}")
                notice = page.locator("p.filter-window").bounding_box()
                if notice is None or notice["x"] + notice["width"] > width:
                    problems[f"window notice at {width}"] = notice
                page.screenshot(path=str(shots / f"admin-filter-window-{width}.png"))
                page.goto(f"{live_server.url}/admin/controlplane/strategysubmission/")
                if page.locator("#result_list .cp-copy").count():
                    copied = _copied(page)
                    if copied != (first_id, first_id, page.url) or "#" in page.url:
                        problems[f"copy at {width}"] = copied
                else:
                    problems[f"copy at {width}"] = "no copy button"
                spoofed = page.locator("#result_list tr", has_text="fx\\u202elive")
                if spoofed.count() != 1:
                    problems[f"escaped world at {width}"] = page.inner_text("#result_list")
                context.close()
        finally:
            browser.close()
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=True)
