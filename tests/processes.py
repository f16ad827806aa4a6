"""Service processes for tests: started with the test database and broker, output kept."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from django.db import connection

from devstack.process import ChildProcess, wait_for

__all__ = ["ChildProcess", "database_url", "retire", "service_process", "wait_for"]

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database this test runs against (pytest-django's test database)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def service_process(args: list[str], env: dict[str, str]) -> ChildProcess:
    """A project process (`manage.py ...`, `-m gunicorn ...`) with the test's environment
    on top of ours, its output in a temporary log file."""
    log = Path(tempfile.mkstemp(prefix="controlplane-test-", suffix=".log")[1])
    name = " ".join(args[:2])
    child = ChildProcess(
        name, [sys.executable, *args], env={**os.environ, **env}, cwd=ROOT, log_path=log
    )
    return child.start()


def retire(child: ChildProcess) -> None:
    """Stop it whatever happened in the test, and remove its log."""
    child.stop()
    if child.log_path is not None:
        child.log_path.unlink(missing_ok=True)
