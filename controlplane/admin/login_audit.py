"""Admin logins in the log: each failure (the user name tried and the client's address,
never the password) and each lockout, one key=value line each. Connected in
ControlPlaneConfig.ready()."""

from __future__ import annotations

import logging
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

logger = logging.getLogger(__name__)


def _remote_addr(request: HttpRequest | None) -> str:
    # REMOTE_ADDR, as axes counts it: a forwarded header is the client's to choose.
    return str(request.META.get("REMOTE_ADDR", "")) if request is not None else ""


def login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    # The user name is whatever the form sent: the log format quotes and escapes it, as
    # every value, so it stays on one line and cannot pass for another key=value pair.
    logger.warning(
        "event=admin_login_failed username=%s remote_addr=%s",
        str(credentials.get("username") or ""),
        _remote_addr(request),
    )


def locked_out(sender: Any, request: HttpRequest | None, username: str | None, **_: Any) -> None:
    logger.warning(
        "event=admin_login_locked_out username=%s remote_addr=%s",
        username or "",
        _remote_addr(request),
    )


def connect() -> None:
    user_login_failed.connect(login_failed, dispatch_uid="controlplane.login_failed")
    user_locked_out.connect(locked_out, dispatch_uid="controlplane.locked_out")
