"""Saving an edit form unchanged in a real browser (Debian's Chromium driven by
Playwright) keeps a stored value holding control and bidirectional characters byte for
byte, while the page shows the value escaped beside its box and shows no such character
as it is anywhere else (text and tooltips)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect, sync_playwright

from controlplane.models import ApiCredential
from tests.support.browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    OPERATOR_PASSWORD,
    log_in_as_operator,
)
from tests.support.layout import RAW_UNSAFE_JS

pytestmark = BROWSER_MARKS

SPOOF = "fx\u202elive\u2066x\x1b[2J\x07"
SHOWN = "fx\\u202elive\\u2066x\\u001b[2J\\u0007"
WORLDS = [SPOOF, "w\x1cx", "plain"]
# The page's text and tooltips holding a character shown as it is, as JSON.
RAW_SHOWN = (
    "() => { const unsafe = RAW_UNSAFE;"
    " const titles = [...document.querySelectorAll('[title]')].map((el) => el.title);"
    " return [document.body.innerText, ...titles].filter((t) => unsafe.test(t))"
    ".map((t) => JSON.stringify(t.slice(0, 80))); }"
).replace("RAW_UNSAFE", RAW_UNSAFE_JS)


def _save_unchanged(page: Page, url: str, note_for: str) -> list[str]:
    """Open `url`, press Save; what the page showed as it is, and the text of the note
    beside the box `note_for` (empty if there is none)."""
    page.goto(url)
    note = page.locator(f"#{note_for}_unprintable")
    shown = [*page.evaluate(RAW_SHOWN), note.inner_text() if note.is_visible() else ""]
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    return shown


def test_edit_forms_saved_unchanged_in_a_browser_keep_what_was_stored(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    User.objects.create_superuser("operator", "", OPERATOR_PASSWORD)
    desk = User.objects.create_user("desk", first_name=SPOOF, last_name="a\x07b")
    credential = ApiCredential.objects.create(
        name="spoofed", key_prefix="cp_spoof", key_hash="1" * 64, allowed_worlds=WORLDS
    )
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop; ORM is done
    admin = f"{live_server.url}/admin"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            log_in_as_operator(page, live_server.url, "/admin/", "#site-name")
            *raw_credential, worlds_note = _save_unchanged(
                page,
                f"{admin}/controlplane/apicredential/{credential.pk}/change/",
                "id_allowed_worlds",
            )
            *raw_user, name_note = _save_unchanged(
                page, f"{admin}/auth/user/{desk.pk}/change/", "id_first_name"
            )
        finally:
            browser.close()

    credential.refresh_from_db()
    desk.refresh_from_db()
    assert credential.allowed_worlds == WORLDS
    assert (desk.first_name, desk.last_name) == (SPOOF, "a\x07b")
    assert SHOWN in worlds_note
    assert "w\\u001cx" in worlds_note
    assert SHOWN in name_note
    assert raw_credential == []
    assert raw_user == []
