"""Every admin list in Chromium at 1400x900, on rows that went through the system (and
dead rows, invalid records and conflicts with long texts): no column is clipped, the
results table fits its container and the page does not scroll sideways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from commitlog.models import InvalidRecord, OutboxEvent, OutboxState, RecordConflict
from tests.support.admin_pages import ADMIN_PAGES
from tests.support.bodies import make_dag, submission_body
from tests.support.browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    OPERATOR_PASSWORD,
    log_in_as_operator,
    seed_through_the_system,
)

pytestmark = BROWSER_MARKS

CHANGELISTS = [path for path in ADMIN_PAGES if path != "/admin/"]
LONG_ERROR = (
    "KafkaTimeoutError: Failed to update metadata after 10.0 secs: broker "
    "kafka-0.kafka.svc.cluster.local:9092 (id: 0 rack: eu-west-1a) did not answer; "
)

# What the page measures: the table against the box it sits in, each header and cell
# against its own content, and the document against the window.
MEASURE = """() => {
  const table = document.querySelector('#result_list');
  const box = table.closest('.results') || table.parentElement;
  const clipped = [...table.querySelectorAll('th, td')]
    .filter((cell) => cell.scrollWidth > cell.clientWidth + 1)
    .map((cell) => cell.className + ': ' + cell.innerText.slice(0, 60));
  return {
    rows: table.querySelectorAll('tbody tr').length,
    table: table.scrollWidth, box: box.clientWidth,
    page: document.documentElement.scrollWidth, window: window.innerWidth, clipped,
    columns: [...table.querySelectorAll('thead th')]
      .map((th) => th.innerText.trim() + '=' + th.offsetWidth),
  };
}"""


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


def test_no_admin_list_is_clipped_at_1400_pixels(
    live_server: Any,
    api: APIClient,
    commitlog: CommitLogSettings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    seed_through_the_system(api, commitlog)
    _long_rows(api)
    User.objects.create_superuser("operator", "", OPERATOR_PASSWORD)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM is done by now

    measured: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            log_in_as_operator(page, live_server.url, "/admin/", "#site-name")
            for path in CHANGELISTS:
                page.goto(f"{live_server.url}{path}")
                page.wait_for_selector("#result_list")
                measured[path] = page.evaluate(MEASURE)
                # Kept for a look when a run fails (pytest keeps the last runs' tmp dirs).
                page.screenshot(path=str(tmp_path / (path.strip("/").replace("/", "-") + ".png")))
        finally:
            browser.close()
    assert all(found["rows"] > 0 for found in measured.values()), measured  # real rows
    too_wide = {
        path: found
        for path, found in measured.items()
        if found["clipped"] or found["table"] > found["box"] or found["page"] > found["window"]
    }
    assert too_wide == {}, json.dumps(too_wide, indent=1)
