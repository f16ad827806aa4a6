"""How an entry point (manage.py, gunicorn, Celery, bin/run) meets a configuration that
must not start: each problem on its own line, no traceback, exit status 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from config.yaml_file import ConfigError

EXIT_STATUS = 2


def report(problems: Iterable[str]) -> None:
    for problem in problems:
        sys.stderr.write(f"controlplane: configuration error: {problem}\n")


def load_settings_or_exit() -> None:
    """Load Django's settings now, so that a ConfigError ends the process here, readably."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018  (loads the settings module)
    except ConfigError as exc:
        report(exc.problems)
        raise SystemExit(EXIT_STATUS) from None
