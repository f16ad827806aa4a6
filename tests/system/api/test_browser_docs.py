"""Try it out on /api/docs in a real browser (Debian's Chromium driven by Playwright):
an operator logged in to the admin executes the example submission with the session and
sees the API's 202 in Swagger UI's response panel."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect, sync_playwright

from controlplane.models import StrategySubmission
from tests.support.browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    OPERATOR_PASSWORD,
    log_in_as_operator,
)

pytestmark = BROWSER_MARKS


def test_an_operator_tries_out_a_submission_from_the_docs(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    User.objects.create_superuser("operator", "", OPERATOR_PASSWORD)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop; ORM is done

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            log_in_as_operator(page, live_server.url, "/admin/", "#cp-overview")
            page.goto(f"{live_server.url}/api/docs")
            submit = page.locator(".opblock-post", has_text="/strategies").first
            expect(submit).to_be_visible(timeout=20_000)
            submit.locator(".opblock-summary").click()
            submit.locator("button.try-out__btn").click()
            submit.locator("button.execute").click()
            status = submit.locator(".live-responses-table tbody .response-col_status").first
            expect(status).to_have_text("202", timeout=20_000)
            expect(submit.locator(".live-responses-table .microlight").first).to_contain_text(
                '"downgraded": false'
            )
        finally:
            browser.close()
    assert StrategySubmission.objects.get().credential is None  # the session, no token
