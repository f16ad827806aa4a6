"""One log format for every process (web, consumer, Celery worker and beat): key=value
lines on stderr. Idle processes stay quiet at INFO: Celery's per-task and per-schedule
lines (a relay run every few seconds) only show at DEBUG.

No value can forge a line: the formatter quotes each value that holds a space, a quote,
an `=`, a backslash or an unprintable character (`"a b"`, `"x\\ny"`), as logfmt does, and
a record's further lines (a traceback) are indented, so that every line that starts
without indentation is a record this process wrote."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_QUOTES = frozenset(' "=\\')


def quote_value(text: str) -> str:
    """`text` as one key=value token: unchanged when plain, else quoted and escaped."""
    if text and text.isprintable() and _NEEDS_QUOTES.isdisjoint(text):
        return text
    body = "".join(
        _ESCAPES.get(char) or (char if char.isprintable() else f"\\u{ord(char):04x}")
        for char in text
    )
    return f'"{body}"'


def _quoted(arg: object) -> object:
    # Numbers keep their type (for %d); anything else is shown as its quoted text.
    if arg is None or isinstance(arg, int | float):
        return arg
    return quote_value(str(arg))


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        original = record.args
        if isinstance(original, Mapping):
            record.args = {key: _quoted(value) for key, value in original.items()}
        elif isinstance(original, tuple):
            record.args = tuple(_quoted(arg) for arg in original)
        try:
            text = super().format(record)
        finally:
            record.args = original  # other handlers (tests' capture) see the record as made
        return text.replace("\n", "\n\t")


def logging_config(level: str) -> dict[str, Any]:
    quiet_below_debug = "DEBUG" if level == "DEBUG" else "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"keyvalue": {"()": KeyValueFormatter, "format": FORMAT}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "keyvalue"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            # Django's own "Unprocessable Entity: /path" lines: the API logs each refusal
            # with its code and credential instead (controlplane.api.errors).
            "django.request": {"level": "ERROR"},
            # Axes writes the user name as sent, newlines included: controlplane.admin.login_audit
            # logs failures and lockouts in this format instead.
            "axes": {"level": "ERROR"},
            "celery.app.trace": {"level": quiet_below_debug},
            "celery.beat": {"level": quiet_below_debug},
        },
    }
