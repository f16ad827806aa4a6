"""System checks: what `manage.py check`, `runserver` and `migrate` warn about at start
(never `--help`, which runs no check)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning

from commitlog.conf import commitlog_settings

WRITER_DISABLED = "commitlog.W001"


@register(Tags.compatibility)
def writer_enabled_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if commitlog_settings().writer_enabled:
        return []
    return [
        CheckWarning(
            "the commit-log writer is disabled (no COMMITLOG_BOOTSTRAP or COMMITLOG_TOPIC): "
            "submissions are accepted and stay pending in the outbox",
            hint="set COMMITLOG_BOOTSTRAP (bin/run starts an embedded broker when it is unset)",
            id=WRITER_DISABLED,
        )
    ]
