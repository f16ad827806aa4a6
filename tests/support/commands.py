"""manage.py in a child process, and the environment of a production start."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.management import call_command

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


# Strong in every respect profile prod checks (config.settings.production); a test that
# runs a prod process on the test machine's passwordless database or Redis says so with
# PROD_ALLOW_WEAK (TRUSTED_TEST_MACHINE).
PROD_ENV = {
    "PROFILE": "prod",
    "DJANGO_SECRET_KEY": "a-long-random-secret-key-for-the-test-0123456789-abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "controlplane.example",
    "DATABASE_URL": "postgres://controlplane:pg-7Hq2vX9mRkLw4Tz8@db.example:5432/controlplane",
    "CELERY_BROKER_URL": "redis://:redis-Vb3nQ8sLx2Wd6Kp1@redis.example:6379/0",
    "COMMITLOG_SIGNING_KEY": "sign-Jf83kQp2Lz7Xw1Nc5Rb9Tv4Hy6Md0Gs",
}
# The test machine's PostgreSQL and Redis have no password.
TRUSTED_TEST_MACHINE = {"PROD_ALLOW_WEAK": "database_password,redis_password"}


def ensure_topic_command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ensure_commitlog_topic", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "controlplane.yaml"
    path.write_text(text)
    return str(path)


PROJECT_COMMANDS = (
    "consume_commitlog",
    "prune_commitlog",
    "ensure_commitlog_topic",
    "audit_commitlog",
)
