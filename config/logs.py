"""One log format for every process (web, consumer, Celery worker and beat): key=value
lines on stderr. Idle processes stay quiet at INFO: Celery's per-task and per-schedule
lines (a relay run every few seconds) only show at DEBUG.

No value can forge a line: the formatter quotes each value that holds a space, a quote,
an `=`, a backslash or an unprintable character (`"a b"`, `"x\\ny"`), as logfmt does, and
a record's further lines (a traceback) are indented, so that every line that starts
without indentation is a record this process wrote."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from config.visible import visible

FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
_NEEDS_QUOTES = frozenset(' "=\\')


def quote_value(text: str) -> str:
    """`text` as one key=value token: unchanged when plain, else quoted and escaped."""
    if text and text.isprintable() and _NEEDS_QUOTES.isdisjoint(text):
        return text
    # The backslash first, so that the escapes added after it stay single.
    return '"' + visible(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def _quoted(arg: object) -> object:
    # Numbers keep their type (for %d); anything else is shown as its quoted text.
    if arg is None or isinstance(arg, int | float):
        return arg
    return quote_value(str(arg))


class KeyValueFormatter(logging.Formatter):
    # ISO 8601 without a space (2026-12-01T10:00:00.000), so that `ts` is one field too.
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03d"

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


class DemotedToDebug(logging.Filter):
    """Logs a logger's INFO records as DEBUG: Celery's per-task and per-schedule lines
    (a relay run every few seconds), which it writes at INFO. Set on the logger that
    writes them, which must let INFO through to reach the filter; the record then goes on
    only when that logger's level lets DEBUG through."""

    def __init__(self, only: str = "") -> None:
        super().__init__()
        # "module:NAME" of the one message format to demote (empty: every INFO record);
        # imported at the first record, in the process that logs it (Celery's own).
        self.only = only
        self._message: object = None

    def _demotes(self, record: logging.LogRecord) -> bool:
        if not self.only:
            return True
        if self._message is None:
            module, _, name = self.only.partition(":")
            self._message = getattr(importlib.import_module(module), name)
        return bool(record.msg == self._message)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self._demotes(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def logging_config(level: str) -> dict[str, Any]:
    def demoted() -> dict[str, Any]:
        return {"filters": ["demoted_to_debug"], "level": level}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"keyvalue": {"()": KeyValueFormatter, "format": FORMAT}},
        "filters": {
            "demoted_to_debug": {"()": DemotedToDebug},
            "task_success_to_debug": {"()": DemotedToDebug, "only": "celery.app.trace:LOG_SUCCESS"},
        },
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
            # "Task ... received", "Task ... succeeded in ...s", "Sending due task ...":
            # DEBUG lines, so an idle worker and beat stay quiet at INFO.
            "celery.worker.strategy": demoted(),
            "celery.app.trace": {"filters": ["task_success_to_debug"], "level": level},
            "celery.beat": demoted(),
        },
    }
