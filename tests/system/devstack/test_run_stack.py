"""One real bin/run (`python -m devstack run`, every service embedded, state in a folder of
the test's), shared by the module's tests: a second run refuses to start and stops nothing
of the first."""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devstack.database import embedded_postgres
from devstack.net import free_port
from devstack.postgres import EmbeddedPostgres, is_reachable
from devstack.process import wait_for
from tests.support.launcher import Launcher, alive, launcher_env, run_to_end
from tests.support.paths import ROOT

READY_S = 300  # initdb, migrations and four processes on a small shared machine


@dataclass(frozen=True)
class Stack:
    launcher: Launcher
    state_dir: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def web_answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def postgres_port(self) -> int:
        """Its embedded PostgreSQL's port, from the server's own pid file."""
        lines = (self.state_dir / "postgres" / "data" / "postmaster.pid").read_text().split("\n")
        return int(lines[3])

    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.postgres_port()}/controlplane"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # Not under pytest's temporary folder, which is closed to others: the embedded
    # PostgreSQL runs as its own user when we are root, and must reach its data.
    state_dir = Path(tempfile.mkdtemp(prefix="controlplane-run-state-"))
    port = free_port()
    launcher = Launcher(["--port", str(port), "--state-dir", str(state_dir)], launcher_env())
    started = Stack(launcher, state_dir, port)
    try:
        launcher.wait_for_line("[run] web on", READY_S)

        def ready() -> bool:
            if launcher.process.poll() is not None:
                raise AssertionError(f"devstack run exited:\n{launcher.output()[-6000:]}")
            return started.web_answers()

        wait_for(ready, 60, "the web app to answer")
        launcher.watch()
        yield started
    finally:
        launcher.close()
        # The embedded PostgreSQL runs detached (pg_ctl): if the run did not stop it, we do.
        EmbeddedPostgres(state_dir / "postgres").stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def test_a_second_run_of_the_same_state_refuses_and_stops_nothing(stack: Stack) -> None:
    code, output = run_to_end(
        ["--port", str(free_port()), "--state-dir", str(stack.state_dir)], launcher_env()
    )
    assert code != 0, output
    assert f"pid {stack.launcher.process.pid}" in output, output
    assert f"port {stack.port}" in output, output
    assert "[run]" not in output, output  # it started nothing, not even a check's server
    assert stack.launcher.process.poll() is None
    assert stack.web_answers()
    assert is_reachable(stack.database_url())


def test_an_embedded_server_found_running_is_left_running(stack: Stack) -> None:
    database_url = stack.database_url()
    postgres = stack.state_dir / "postgres"
    with embedded_postgres("run", state_dir=postgres, database="controlplane") as url:
        assert url == database_url
    assert is_reachable(database_url), "the run's PostgreSQL was stopped by another user"
    assert stack.web_answers()


REACHED = (
    "from django.conf import settings as s; db = s.DATABASES['default']; "
    "print(db['HOST'], db['PORT'], db['NAME'], s.COMMITLOG_BOOTSTRAP, s.CELERY_BROKER_URL)"
)


def _by_hand(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A manage.py command from a shell of our own that sources the file, as the run says."""
    script = 'set -a; . "$1"; set +a; shift; exec "$@"'
    return subprocess.run(
        ["bash", "-c", script, "bash", str(env_file), sys.executable, "manage.py", *args],
        env=launcher_env(), cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_settings_file_lets_a_command_by_hand_reach_the_same_stack(stack: Stack) -> None:
    env_file = stack.state_dir / "env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    lines = [line for line in env_file.read_text().splitlines() if not line.startswith("#")]
    assert all(line.startswith("export ") for line in lines), lines
    names = {line.removeprefix("export ").split("=", 1)[0] for line in lines}
    assert {"PROFILE", "DATABASE_URL", "CELERY_BROKER_URL", "COMMITLOG_BOOTSTRAP"} <= names

    output = stack.launcher.output()
    assert f"set -a; . {env_file}; set +a" in output, output
    for service in ("PostgreSQL", "Kafka", "Celery broker"):
        assert f"[run]   {service:<14}" in output, output

    reached = _by_hand(env_file, "shell", "-c", REACHED)
    assert reached.returncode == 0, reached.stderr
    host, port, name, bootstrap, broker = reached.stdout.strip().splitlines()[-1].split()
    assert (host, port, name) == ("127.0.0.1", str(stack.postgres_port()), "controlplane")
    assert bootstrap in output
    assert f"Celery broker: embedded Redis on {broker}" in output

    pruned = _by_hand(env_file, "prune_commitlog", "--dry-run")
    assert pruned.returncode == 0, pruned.stderr
    assert "prune_commitlog: would delete" in pruned.stdout


# librdkafka's own lines ("%3|...|FAIL|rdkafka#consumer-1| ...") or the clients' log
# records of its errors.
KAFKA_TROUBLE = re.compile(r"\|(FAIL|ERROR)\||rdkafka.*\b(FAIL|ERROR)\b|level=ERROR")


def test_ctrl_c_stops_the_broker_last_and_everything_cleanly(stack: Stack) -> None:
    """Last in the module: it stops the shared stack, as Ctrl-C in its terminal does."""
    started = stack.launcher.watch()
    assert started, "no process under the launcher"
    os.killpg(stack.launcher.process.pid, signal.SIGINT)
    code = stack.launcher.wait(120)
    output = stack.launcher.output()
    assert code == 0, output
    stopping = output[output.index("SIGINT received; stopping") :]
    troubles = [line for line in stopping.splitlines() if KAFKA_TROUBLE.search(line)]
    assert not troubles, "\n".join(troubles)
    # The broker goes after every process that talks to it.
    assert stopping.index("[run] Kafka: embedded broker stopped") > max(
        stopping.index(f"[run] {name} stopped") for name in ("web", "worker", "beat", "consumer")
    ), stopping
    assert not (stack.state_dir / "env").exists()
    wait_for(lambda: not any(alive(pid) for pid in started), 30, "every process to be gone")
    assert not (stack.state_dir / "postgres" / "data" / "postmaster.pid").exists()
