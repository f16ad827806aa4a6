"""The Celery app: runs `relay_outbox` (nudged after each write, and on a beat schedule)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from celery import Celery

from config.startup import load_settings_or_exit

# Before the app: Celery installs its Django fixup (django.setup() before the tasks are
# imported) only when it finds the settings module named at construction.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
app = Celery("controlplane")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["commitlog"])


def _run_by_celery_command() -> bool:
    """Whether this process is `celery ...` (the console script or `python -m celery`)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return (spec is not None and spec.name == "celery.__main__") or Path(
        sys.argv[0]
    ).name == "celery"


# `celery -A config worker|beat`: a configuration that must not start is reported as
# lines here, before Celery's command line reads the settings and would print a
# traceback. Only there: a Django process imports this module (through controlplane) and
# loads its settings at its own time. After `app`, because loading the settings imports
# controlplane, which imports `app` from here.
if _run_by_celery_command():
    load_settings_or_exit()
