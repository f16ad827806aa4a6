"""The Content-Security-Policy in a real browser (Debian's Chromium driven by Playwright):
the admin, the dashboard and the Swagger UI page work under it with no violation, and an
inline script injected into a page is blocked and reported (the control)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from controlplane.models import StrategySubmission
from tests.support.bodies import submission_body
from tests.support.browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    OPERATOR_PASSWORD,
    log_in_as_operator,
)

pytestmark = BROWSER_MARKS

# Every violation the page reports, kept where the test can read it.
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""

# Admin pages that cover the site's own templates and Django's: the home page with its
# overview, read-only lists (whose template writes an inline style), a change page with
# pretty-printed JSON, the credential form with its action bar.
ADMIN_PAGES = [
    ("/admin/", "#cp-overview"),
    ("/admin/dashboard/", "#cp-overview"),
    ("/admin/controlplane/strategysubmission/", "#result_list"),
    ("/admin/controlplane/apicredential/", "#result_list"),
    ("/admin/controlplane/apicredential/add/", "#id_name"),
    ("/admin/commitlog/outboxevent/", "#result_list"),
]


def test_admin_dashboard_and_api_docs_work_under_the_policy(
    live_server: Any, api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    assert api.post("/strategies", submission_body(), format="json").status_code == 202
    strategy_id = StrategySubmission.objects.get().strategy_id
    pages = [*ADMIN_PAGES, (f"/admin/controlplane/strategysubmission/{strategy_id}/change/", "pre")]
    User.objects.create_superuser("operator", "", OPERATOR_PASSWORD)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop; ORM is done

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.add_init_script(LISTEN)
            console: list[str] = []
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console.append(str(e)))

            log_in_as_operator(page, live_server.url, "/admin/", "#cp-overview")

            violations: dict[str, list[str]] = {}
            for path, ready in pages:
                response = page.goto(f"{live_server.url}{path}")
                assert response is not None
                assert "script-src 'self'" in response.headers["content-security-policy"]
                page.wait_for_selector(ready)
                violations[path] = page.evaluate("window.__csp")

            # Swagger UI starts from its own script and draws the operations from the schema.
            page.goto(f"{live_server.url}/api/docs")
            page.wait_for_selector(".opblock-summary-path >> text=/strategies")
            page.wait_for_selector(".info .title")
            violations["/api/docs"] = page.evaluate("window.__csp")

            assert violations == {path: [] for path in violations}
            assert [line for line in console if "Content Security Policy" in line] == []

            # The control: the listener hears a blocked inline script, which does not run.
            page.goto(f"{live_server.url}/admin/dashboard/")
            page.evaluate(
                "() => { const s = document.createElement('script');"
                " s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"
            )
            page.wait_for_function("window.__csp.length > 0")
            assert page.evaluate("window.__ran === undefined")
            assert page.evaluate("window.__csp")[0].startswith("script-src")
        finally:
            browser.close()
