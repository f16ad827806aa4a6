"""Issuing an API token in the admin, in a real browser (Debian's Chromium driven by
Playwright): the token shown once, copied to the clipboard by its button (a script the
CSP lets run), the curl example beside it sent as shown, to this server, accepted; and the
form's "save and add another" and "save and continue editing" lead where they say."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect, sync_playwright

from controlplane.services.credentials import credential_authenticate
from tests.support.browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    OPERATOR_PASSWORD,
    log_in_as_operator,
)
from tests.support.curl import curl_request, send_over_http

pytestmark = BROWSER_MARKS


def issue(page: Page, url: str, name: str, button: str) -> str:
    """Issue a credential named `name` with the form's `button`; the token the page shows."""
    page.goto(f"{url}/admin/controlplane/apicredential/add/")
    page.fill("#id_name", name)
    page.click(f"input[name={button}]")
    token = page.locator("#issued-token")
    expect(token).to_be_visible()
    return token.inner_text().strip()


def test_an_issued_token_is_copied_and_its_curl_example_is_accepted(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    User.objects.create_superuser("operator", "", OPERATOR_PASSWORD)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop; ORM is done
    url = live_server.url

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "console",
                lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
            )
            log_in_as_operator(page, url, "/admin/", "#cp-overview")

            token = issue(page, url, "browser desk", "_save")
            assert token.startswith("cp_")
            # Prominent: a monospace face, larger than the text around it, on one line.
            style = page.locator("#issued-token").evaluate(
                "e => [getComputedStyle(e).fontFamily, parseFloat(getComputedStyle(e).fontSize),"
                " parseFloat(getComputedStyle(document.body).fontSize)]"
            )
            assert "mono" in style[0].lower()
            assert style[1] > style[2]
            page.click("button[data-copy-from=issued-token]")
            expect(page.locator("[data-copied-for=issued-token]")).to_have_text("Copied.")
            assert page.evaluate("navigator.clipboard.readText()") == token

            command = page.locator("#issued-curl").inner_text()
            sample = curl_request(command)
            assert sample.url == f"{url}/strategies"
            assert sample.headers["Authorization"] == f"Bearer {token}"
            status, answer = send_over_http(sample)
            assert status == 202, answer
            assert answer["downgraded"] is False
            page.click("button[data-copy-from=issued-curl]")
            assert page.evaluate("navigator.clipboard.readText()") == command.strip()

            # "Save and add another": the token, then the way to the next one.
            another = issue(page, url, "second desk", "_addanother")
            page.click("#next-step")
            expect(page.locator("#id_name")).to_have_value("")
            assert page.url.endswith("/admin/controlplane/apicredential/add/")

            # "Save and continue editing": the token, then the credential's own page.
            third = issue(page, url, "third desk", "_continue")
            page.click("#next-step")
            expect(page.locator(".field-name .readonly")).to_have_text("third desk")
            assert errors == []
        finally:
            browser.close()
    for issued, name in ((another, "second desk"), (third, "third desk")):
        credential = credential_authenticate(issued)
        assert credential is not None
        assert credential.name == name
