"""Service processes for tests: started with the test database and broker, output kept."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.db import connection

from commitlog.conf import CommitLogSettings
from devstack.net import free_port
from devstack.process import ChildProcess, wait_for
from tests.support.paths import ROOT

__all__ = ["ChildProcess", "database_url", "gunicorn", "retire", "service_process", "wait_for"]


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


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 1) -> Iterator[tuple[str, ChildProcess]]:
    """The web app under gunicorn as compose runs it, on the test database (dev profile,
    no commit log unless `env` says otherwise): its base URL and its process."""
    port = free_port()
    env = {"PROFILE": "dev", "DJANGO_DEBUG": "false", "DATABASE_URL": database_url(),
           "COMMITLOG_BOOTSTRAP": "", "RELAY_NUDGE_ENABLED": "false", **env}  # fmt: skip
    # compose's configuration module and its access log on stdout, as compose's `web`.
    args = ["-m", "gunicorn", "-c", "python:config.gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--access-logfile", "-"]  # fmt: skip
    server = service_process(args, env)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if not server.alive:
            raise AssertionError(f"gunicorn exited:\n{server.output()}")
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, 60, "gunicorn to answer")
        yield base, server
    finally:
        retire(server)


SUMMARY = re.compile(
    r"consumer stopped: records=(\d+) applied=(\d+) duplicates=(\d+) invalid=(\d+) conflicts=(\d+)"
)


def consumer_env(commitlog: CommitLogSettings, **extra: str) -> dict[str, str]:
    return {
        "PROFILE": "dev",
        "DATABASE_URL": database_url(),
        "COMMITLOG_BOOTSTRAP": commitlog.commitlog_bootstrap,
        "COMMITLOG_TOPIC": commitlog.commitlog_topic,
        "COMMITLOG_GROUP": commitlog.commitlog_group,
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
        **extra,
    }
