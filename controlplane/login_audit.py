"""Admin logins in the log: each failure (the user name tried and the client's address,
never the password) and each lockout, one key=value line each. Connected in
ControlPlaneConfig.ready()."""

from __future__ import annotations

import json
import logging
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

logger = logging.getLogger(__name__)


def _quoted(value: object) -> str:
    # The user name is whatever the form sent: as a JSON string it stays on one line and
    # cannot pass for another key=value pair.
    return json.dumps("" if value is None else str(value))


def _remote_addr(request: HttpRequest | None) -> str:
    # REMOTE_ADDR, as axes counts it: a forwarded header is the client's to choose.
    return _quoted(request.META.get("REMOTE_ADDR", "") if request is not None else "")


def login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    logger.warning(
        "event=admin_login_failed username=%s remote_addr=%s",
        _quoted(credentials.get("username")),
        _remote_addr(request),
    )


def locked_out(sender: Any, request: HttpRequest | None, username: str | None, **_: Any) -> None:
    logger.warning(
        "event=admin_login_locked_out username=%s remote_addr=%s",
        _quoted(username),
        _remote_addr(request),
    )


def connect() -> None:
    user_login_failed.connect(login_failed, dispatch_uid="controlplane.login_failed")
    user_locked_out.connect(locked_out, dispatch_uid="controlplane.locked_out")
