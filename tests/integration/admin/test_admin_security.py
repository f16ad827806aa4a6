"""The admin's defences against a real server (pytest-django's live server, spoken to over
HTTP): login lockout (with no way round it through a variant of the name) and its log
lines, the Content-Security-Policy header, session length, revocations in the admin
history, issued tokens kept out of cookies, and staff without permissions kept from the
dashboard, /metrics and the API docs."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType

from config.env import EnvReader
from config.logs import FORMAT, KeyValueFormatter
from config.settings.security import read_security_settings
from controlplane.models import ApiCredential
from controlplane.services.credentials import credential_issue

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "operator-pass-123"


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings: Any) -> None:
    # These tests log in a few dozen times; the default hasher takes most of a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def browser(live_server: Any) -> Iterator[Callable[[], httpx.Client]]:
    """HTTP clients of the live server, each with its own cookies; closed at the end so
    that no server thread keeps a connection (and its database session) open."""
    opened: list[httpx.Client] = []

    def new() -> httpx.Client:
        opened.append(httpx.Client(base_url=live_server.url, follow_redirects=False, timeout=30))
        return opened[-1]

    yield new
    for client in opened:
        client.close()


def csrf(http: httpx.Client) -> str:
    if "csrftoken" not in http.cookies:
        http.get("/admin/login/")
    return http.cookies["csrftoken"]


def log_in(http: httpx.Client, username: str, password: str) -> httpx.Response:
    data = {"username": username, "password": password, "next": "/admin/"}
    return http.post("/admin/login/", data={**data, "csrfmiddlewaretoken": csrf(http)})


def messages_of(caplog: pytest.LogCaptureFixture, event: str) -> list[str]:
    """The log lines of `event` as the service's log format writes them."""
    formatter = KeyValueFormatter(FORMAT)
    lines = [formatter.format(r) for r in caplog.records]
    return [line for line in lines if f"event={event} " in line]


def test_logins_lock_out_after_the_failure_limit_and_each_failure_is_logged(
    browser: Callable[[], httpx.Client], settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    caplog.set_level(logging.WARNING, logger="controlplane.admin.login_audit")
    User.objects.create_superuser("operator", "", PASSWORD)
    User.objects.create_superuser("colleague", "", PASSWORD)
    http = browser()

    answers = [log_in(http, "operator", f"guess-{n}").status_code for n in range(3)]
    assert answers == [200, 200, 429]  # the form again twice, then the lockout
    locked = log_in(http, "operator", PASSWORD)
    assert locked.status_code == 429  # the right password no longer helps
    assert "sessionid" not in locked.headers.get("set-cookie", "")

    failed = messages_of(caplog, "admin_login_failed")
    assert len(failed) == 4
    assert all("username=operator remote_addr=127.0.0.1" in line for line in failed)
    assert messages_of(caplog, "admin_login_locked_out")
    assert "guess-" not in caplog.text
    assert PASSWORD not in caplog.text

    # The lockout is the user name's: another operator, one failure behind, gets in.
    other = browser()
    assert log_in(other, "colleague", "typo").status_code == 200
    assert log_in(other, "colleague", PASSWORD).status_code == 302


# Spellings of "operator" a lockout counted by the exact name could miss.
VARIANTS = ["Operator", "OPERATOR", " operator", "operator ", "\uff4fperator", "operator\u200b"]


def test_a_locked_out_user_name_is_not_reached_through_a_variant_of_it(
    browser: Callable[[], httpx.Client], settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    User.objects.create_superuser("operator", "", PASSWORD)
    http = browser()
    assert [log_in(http, "operator", "guess").status_code for _ in range(2)] == [200, 429]

    for variant in VARIANTS:
        answer = log_in(browser(), variant, PASSWORD)  # the right password, another spelling
        assert answer.status_code in (200, 429), (variant, answer.status_code)
        assert "sessionid" not in answer.headers.get("set-cookie", ""), variant
    assert log_in(browser(), "operator", PASSWORD).status_code == 429


def test_a_user_name_cannot_forge_a_log_line(
    browser: Callable[[], httpx.Client], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="controlplane.admin.login_audit")
    log_in(browser(), "x\nts=0 event=credential_revoked", "nope")
    (line,) = messages_of(caplog, "admin_login_failed")
    assert "\n" not in line
    assert 'username="x\\nts=0 event=credential_revoked"' in line


def test_the_session_lasts_the_configured_hours(
    browser: Callable[[], httpx.Client], settings: Any
) -> None:
    assert settings.SESSION_COOKIE_AGE == 8 * 3600  # the default
    User.objects.create_superuser("operator", "", PASSWORD)
    response = log_in(browser(), "operator", PASSWORD)
    assert response.status_code == 302
    cookie = next(c for c in response.headers.get_list("set-cookie") if "sessionid=" in c)
    assert "Max-Age=28800" in cookie


def test_security_settings_read_from_the_environment() -> None:
    read = EnvReader({"ADMIN_SESSION_HOURS": "2", "ADMIN_LOGIN_FAILURE_LIMIT": "7"})
    found = read_security_settings(read)
    assert (found.session_cookie_age, found.login_failure_limit) == (7200, 7)
    assert found.signing_keys == ()
    assert read.problems == []
    short = EnvReader({"COMMITLOG_SIGNING_KEY": f"{'n' * 32},short"})
    assert read_security_settings(short).signing_keys == ("n" * 32, "short")
    assert short.problems == ["COMMITLOG_SIGNING_KEY: each key needs 32+ characters"]


@pytest.mark.parametrize("path", ["/admin/login/", "/healthz", "/strategies", "/api/docs"])
def test_every_response_carries_the_content_security_policy(
    browser: Callable[[], httpx.Client], path: str
) -> None:
    policy = browser().get(path).headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_a_revocation_is_in_the_admin_history_and_the_log_with_its_actor(
    browser: Callable[[], httpx.Client], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="controlplane.services.credentials")
    operator = User.objects.create_superuser("operator", "", PASSWORD)
    credential = credential_issue(name="research desk").credential
    http = browser()
    assert log_in(http, "operator", PASSWORD).status_code == 302
    response = http.post(
        "/admin/controlplane/apicredential/",
        data={
            "action": "revoke",
            "_selected_action": str(credential.pk),
            "index": "0",
            "csrfmiddlewaretoken": csrf(http),
        },
    )
    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.revoked_at is not None
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(ApiCredential),
        object_id=str(credential.pk),
    )
    assert (entry.user_id, entry.action_flag, entry.change_message) == (
        operator.pk,
        CHANGE,
        "Revoked.",
    )
    (line,) = messages_of(caplog, "credential_revoked")
    assert line.endswith(f"credential_id={credential.pk} actor=operator")


def test_an_issued_token_is_in_the_page_only_never_in_a_cookie(
    browser: Callable[[], httpx.Client],
) -> None:
    User.objects.create_superuser("operator", "", PASSWORD)
    http = browser()
    assert log_in(http, "operator", PASSWORD).status_code == 302
    response = http.post(
        "/admin/controlplane/apicredential/add/",
        data={"name": "research desk", "_save": "Save", "csrfmiddlewaretoken": csrf(http)},
    )
    assert response.status_code == 200  # the page itself, not a redirect through a cookie
    match = re.search(r'<code id="issued-token">(cp_[A-Za-z0-9_\-]+)</code>', response.text)
    assert match is not None
    token = match.group(1)
    stored = ApiCredential.objects.get(name="research desk")
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert "no-store" in response.headers["cache-control"]
    cookies = response.headers.get_list("set-cookie")
    assert not any(token in c for c in cookies)
    assert not any(c.startswith("messages=") for c in cookies)
    assert token not in http.get("/admin/controlplane/apicredential/").text
    api = http.get("/strategies/none/status", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 404  # the token works: unknown strategy, not 401


def grant(user: User, codename: str) -> None:
    user.user_permissions.add(Permission.objects.get(codename=codename))


def test_staff_without_permissions_do_not_see_the_dashboard_metrics_or_docs(
    browser: Callable[[], httpx.Client],
) -> None:
    staff = User.objects.create_user("helpdesk", password=PASSWORD, is_staff=True)
    http = browser()
    assert log_in(http, "helpdesk", PASSWORD).status_code == 302
    gated = ["/admin/dashboard/", "/metrics", "/api/docs", "/api/schema"]
    assert {path: http.get(path).status_code for path in gated} == dict.fromkeys(gated, 403)
    home = http.get("/admin/")
    assert home.status_code == 200
    assert 'id="cp-overview"' not in home.text

    grant(staff, "view_outboxevent")  # operations: the dashboard, its overview and /metrics
    assert 'id="cp-overview"' in http.get("/admin/dashboard/").text
    assert 'id="cp-overview"' in http.get("/admin/").text
    metrics = http.get("/metrics")
    assert metrics.status_code == 200
    assert "controlplane_outbox_rows" in metrics.text
    assert http.get("/api/docs").status_code == 403

    grant(staff, "view_strategysubmission")  # any permission on the control plane's models
    assert http.get("/api/docs").status_code == 200
    assert http.get("/api/schema").status_code == 200


def test_failed_logins_are_pruned_with_the_logs_bookkeeping(
    browser: Callable[[], httpx.Client],
) -> None:
    from datetime import timedelta

    from axes.models import AccessAttempt, AccessLog
    from django.utils import timezone

    from commitlog.upkeep.prune import commitlog_prune

    def attempt(username: str, age: timedelta) -> None:
        AccessAttempt.objects.create(
            username=username,
            ip_address="127.0.0.1",
            user_agent="test",
            failures_since_start=1,
        )
        AccessAttempt.objects.filter(username=username).update(attempt_time=timezone.now() - age)

    User.objects.create_user("pruned", password=PASSWORD, is_staff=True)
    assert log_in(browser(), "pruned", PASSWORD).status_code in (200, 302)
    attempt("old", timedelta(days=8))
    attempt("recent", timedelta(minutes=1))
    run = commitlog_prune(days=7)
    assert run.deleted["failed admin logins"] == 1
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["recent"]
    assert not AccessLog.objects.exists()  # a login leaves no row (AXES_DISABLE_ACCESS_LOG)
