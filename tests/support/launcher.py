"""`python -m devstack run` (bin/run without its venv step) in a session of its own, on a
state folder of the test's, with every process it leaves behind found and ended."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devstack.process import wait_for
from tests.support.paths import ROOT

# The settings a developer's shell or the test run may hold that would point the stack at
# other services, or at the test database.
_CLEARED_PREFIXES = ("COMMITLOG_", "RELAY_", "CONSUMER_", "RECONCILE_", "DJANGO_", "DATABASE_")
_CLEARED = ("PROFILE", "CELERY_BROKER_URL", "CONTROLPLANE_CONFIG", "CONTROLPLANE_EMBEDDED")


def launcher_env(**environ: str) -> dict[str, str]:
    """Our environment without any service or setting of the test run, plus `environ`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _CLEARED and not key.startswith(_CLEARED_PREFIXES)
    }
    return {**env, **environ}


def _children_of() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def descendants(pid: int) -> set[int]:
    """Every living process under `pid`, however deep (children in sessions of their own
    too: a session does not change the parent)."""
    tree, found, todo = _children_of(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def end_all(pids: set[int]) -> None:
    """SIGKILL whichever of `pids` still lives (the clean-up after a test that failed)."""
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Launcher:
    """One `devstack run`, its output (stdout and stderr) in a file."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.log = Path(tempfile.mkstemp(prefix="controlplane-run-", suffix=".log")[1])
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devstack", "run", *args],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as a terminal gives one
            )  # fmt: skip
        self.seen: set[int] = set()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def watch(self) -> set[int]:
        """Remember every process under the launcher now, to check later that it is gone."""
        self.seen |= descendants(self.process.pid)
        return self.seen

    def wait_for_line(self, fragment: str, timeout_s: float) -> None:
        def seen() -> bool:
            self.watch()
            if self.process.poll() is not None and fragment not in self.output():
                raise AssertionError(f"devstack run exited:\n{self.output()[-6000:]}")
            return fragment in self.output()

        wait_for(seen, timeout_s, f"{fragment!r} from devstack run")

    def wait(self, timeout_s: float) -> int:
        return self.process.wait(timeout=timeout_s)

    def close(self) -> None:
        """Whatever happened: the launcher and everything it started are gone, log removed."""
        self.watch()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.watch()
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in self.seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        end_all(self.seen)
        print(f"--- devstack run's output ---\n{self.output()[-8000:]}")  # shown on failure
        self.log.unlink(missing_ok=True)


def run_to_end(args: list[str], env: dict[str, str], timeout_s: float = 120) -> tuple[int, str]:
    """A run expected to stop by itself (a refusal): its status and output."""
    launcher = Launcher(args, env)
    try:
        launcher.watch()
        try:
            code = launcher.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"devstack run did not stop in {timeout_s:.0f}s:\n{launcher.output()[-6000:]}"
            ) from None
        return code, launcher.output()
    finally:
        launcher.close()
