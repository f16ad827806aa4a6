"""manage.py in a child process, and the environment of a production start."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import ROOT


def manage(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMITLOG_", "PROFILE"))}
    env.pop("CONTROLPLANE_CONFIG", None)
    env.update(environ)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


PROD_ENV = {
    "PROFILE": "prod",
    "DJANGO_SECRET_KEY": "a-long-random-secret-key-for-the-test-0123456789-abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "controlplane.example",
    "CELERY_BROKER_URL": "redis://redis.example:6379/0",
}
