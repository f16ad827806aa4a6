"""The Celery app: runs `relay_outbox` (nudged after each write, and on a beat schedule)."""

from __future__ import annotations

import os

from celery import Celery

from config.startup import load_settings_or_exit

# Before the app: Celery installs its Django fixup (django.setup() before the tasks are
# imported) only when it finds the settings module named at construction.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
app = Celery("controlplane")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["commitlog"])

# The entry point of `celery -A config worker|beat`: a configuration that must not start
# is reported as lines here, before Celery's command line reads the settings. In a Django
# process they are loaded already and this returns at once. After `app`, because loading
# the settings imports controlplane, which imports `app` from here.
load_settings_or_exit()
