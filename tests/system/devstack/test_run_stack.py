"""One real bin/run (`python -m devstack run`, every service embedded, state in a folder of
the test's), shared by the module's tests: a second run refuses to start and stops nothing
of the first."""

from __future__ import annotations

import shutil
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
from tests.support.launcher import Launcher, launcher_env, run_to_end

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

    def database_url(self) -> str:
        """The URL of its embedded PostgreSQL, from the server's own pid file."""
        lines = (self.state_dir / "postgres" / "data" / "postmaster.pid").read_text().split("\n")
        return f"postgres://postgres@127.0.0.1:{int(lines[3])}/controlplane"


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
