"""One log format for every process (web, consumer, Celery worker and beat): key=value
lines on stderr. Idle processes stay quiet at INFO: Celery's per-task and per-schedule
lines (a relay run every few seconds) only show at DEBUG."""

from __future__ import annotations

from typing import Any

FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def logging_config(level: str) -> dict[str, Any]:
    quiet_below_debug = "DEBUG" if level == "DEBUG" else "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"keyvalue": {"format": FORMAT}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "keyvalue"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # Django's own "Unprocessable Entity: /path" lines: the API logs each refusal
            # with its code and credential instead (controlplane.api_errors).
            "django.request": {"level": "ERROR"},
            # Axes writes the user name as sent, newlines included: controlplane.login_audit
            # logs failures and lockouts in this format instead.
            "axes": {"level": "ERROR"},
            "celery.app.trace": {"level": quiet_below_debug},
            "celery.beat": {"level": quiet_below_debug},
        },
    }
