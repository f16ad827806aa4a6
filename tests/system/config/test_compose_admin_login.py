"""Why compose's admin needs HTTPS in front: `web` under gunicorn with compose's command
and environment (prod: Secure session and CSRF cookies) serves plain HTTP, and Chromium
keeps those cookies only for localhost, so the login works from there and from no other
host name."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from devstack.net import free_port
from tests.support.browser import (
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    OPERATOR_PASSWORD,
    log_in_as_operator,
)
from tests.support.compose import REQUIRED_SECRETS, service_environment
from tests.support.processes import database_url, gunicorn

pytestmark = BROWSER_MARKS

OTHER_HOST = "controlplane.test"  # any name but localhost, mapped to 127.0.0.1 below


@pytest.fixture
def compose_web(tmp_path: Path) -> Iterator[int]:
    given = {**REQUIRED_SECRETS, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    env = service_environment("web", given, tmp_path)
    assert env["PROFILE"] == "prod"
    env.update(
        DATABASE_URL=database_url(),
        PROD_ALLOW_WEAK="database_password",  # the test machine's, without a password
        COMMITLOG_BOOTSTRAP=f"127.0.0.1:{free_port()}",  # the login needs no broker
        DJANGO_ALLOWED_HOSTS=f"localhost,127.0.0.1,{OTHER_HOST}",  # as an operator sets it
    )
    get_user_model().objects.create_superuser("operator", "op@example.com", OPERATOR_PASSWORD)
    with gunicorn(env) as (base, _):
        yield int(base.rsplit(":", 1)[1])


def test_the_admin_login_works_over_plain_http_from_localhost_only(compose_web: int) -> None:
    from playwright.sync_api import sync_playwright

    port = compose_web
    args = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {OTHER_HOST} 127.0.0.1"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_context().new_page()
            log_in_as_operator(page, f"http://localhost:{port}", "/admin/", "#user-tools")

            context = browser.new_context()
            page = context.new_page()
            page.goto(f"http://{OTHER_HOST}:{port}/admin/login/")
            assert context.cookies() == []  # the Secure csrftoken was not kept
            page.fill("#id_username", "operator")
            page.fill("#id_password", OPERATOR_PASSWORD)
            with page.expect_response(lambda r: r.request.method == "POST") as answer:
                page.click("input[type=submit]")
            assert answer.value.status == 403  # CSRF: no cookie came back
        finally:
            browser.close()
