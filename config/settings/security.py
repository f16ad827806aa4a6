"""The admin's and the commit log's security settings, read by config.settings: login
lockout (django-axes), the Content-Security-Policy (django-csp), session length and the
keys that sign commit-log records. Free of Django, like config.env."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from config.env import EnvReader

__all__ = [
    "AUTHENTICATION_BACKENDS",
    "AXES_DISABLE_ACCESS_LOG",
    "AXES_LOCKOUT_PARAMETERS",
    "AXES_RESET_ON_SUCCESS",
    "AXES_VERBOSE",
    "CONTENT_SECURITY_POLICY",
    "LOGIN_REDIRECT_URL",
    "SILENCED_SYSTEM_CHECKS",
    "read_security_settings",
]

# An HMAC key shorter than this is guessable offline from one signed record.
MIN_SIGNING_KEY_CHARS = 32

# Axes counts failures in the database (shared by every web process) and checks them in
# its authentication backend, which must come first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# By user name, so guessing one operator's password from many addresses is stopped too.
# (Per address would lock out everyone behind a shared proxy, whose address is the
# REMOTE_ADDR axes sees: X-Forwarded-For is not trusted.)
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes warns when the address is not among the parameters: see above for why it is not.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # controlplane.admin.login_audit writes one key=value line instead
# No row per successful login (a table that would grow with every login ever made); the
# failures axes counts are pruned with the log's bookkeeping (controlplane.apps).
AXES_DISABLE_ACCESS_LOG = True
# Where a login goes when its `next` is missing or refused as unsafe (Django's default,
# /accounts/profile/, is no page here).
LOGIN_REDIRECT_URL = "admin:index"

# Every response. Scripts only from this origin (the Swagger UI page loads its start-up
# script from the server too: ApiDocsView). Styles may be inline: Django's admin and
# Swagger UI write <style> blocks and style attributes; scripts are the XSS vector.
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}


class SecuritySettings(NamedTuple):  # unpacked by settings.py, in this order
    session_cookie_age: int  # seconds
    login_failure_limit: int
    login_lockout: timedelta
    signing_keys: tuple[str, ...]  # the first signs; all are accepted


def read_security_settings(read: EnvReader) -> SecuritySettings:
    keys = tuple(read.items("COMMITLOG_SIGNING_KEY", []))
    if any(len(key) < MIN_SIGNING_KEY_CHARS for key in keys):
        read.problem(f"COMMITLOG_SIGNING_KEY: each key needs {MIN_SIGNING_KEY_CHARS}+ characters")
    return SecuritySettings(
        session_cookie_age=round(read.number("ADMIN_SESSION_HOURS", 8.0, minimum=0.01) * 3600),
        login_failure_limit=read.integer("ADMIN_LOGIN_FAILURE_LIMIT", 5, minimum=1),
        login_lockout=timedelta(minutes=read.number("ADMIN_LOGIN_LOCKOUT_MINUTES", 15.0)),
        signing_keys=keys,
    )
