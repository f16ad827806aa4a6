"""A child process of ours, the one wrapper the local run, the tests, the fault-injection
stack and the benchmarks share: output to a log file (or the terminal), a stop that asks
with SIGTERM and then kills, and waits on a condition with a deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `condition` until it holds; AssertionError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(0.1)


class ChildProcess:
    """One named child. `log_path` collects its stdout and stderr (appended across
    restarts); None leaves them on the terminal. With `own_group` it runs in a session of
    its own, so signals reach its whole process group (Celery's pool children too)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        cwd: str | Path,
        log_path: Path | None = None,
        own_group: bool = False,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.own_group = own_group
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str] | None = None) -> ChildProcess:
        if env is not None:
            self.env = env
        if self.log_path is None:
            self.process = subprocess.Popen(  # noqa: S603
                self.argv, env=self.env, cwd=self.cwd, start_new_session=self.own_group
            )
            return self
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                self.argv, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=self.own_group,
            )  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def output(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def has_line(self, fragment: str) -> bool:
        return fragment in self.output()

    def wait_for_line(self, fragment: str, timeout_s: float) -> None:
        def seen() -> bool:
            if not self.alive and not self.has_line(fragment):
                raise AssertionError(
                    f"{self.name} exited ({self.returncode()}):\n{self.output()[-4000:]}"
                )
            return self.has_line(fragment)

        wait_for(seen, timeout_s, f"{fragment!r} from {self.name}")

    def signal(self, signum: int, *, whole_group: bool = True) -> None:
        """`signum` to the child, and with `own_group` to its whole group unless told not."""
        if not self.alive:
            return
        if self.own_group and whole_group:
            os.killpg(self.pid, signum)
        else:
            assert self.process is not None
            self.process.send_signal(signum)

    def wait(self, timeout_s: float) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> None:
        if self.alive:
            self.signal(signal.SIGKILL)
            self.wait(30)

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout_s`; whatever happened, it is gone after."""
        if self.alive:
            self.signal(signal.SIGTERM)
            try:
                self.wait(timeout_s)
            except subprocess.TimeoutExpired:
                print(f"[process] {self.name} did not stop in {timeout_s:.0f}s; killing it")
                self.kill()
        return self.returncode()
