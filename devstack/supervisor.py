"""Child processes of a local run: started together, stopped in order on Ctrl-C or SIGTERM.

Each child runs in a session of its own, so the terminal's Ctrl-C reaches the launcher
only: it stops the children one at a time, in the order they were started, each after the
one before has exited, and only then are the servers they use stopped (the launcher's
contexts), so no client sees its broker go away."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence
from types import FrameType

from devstack.process import ChildProcess


class StopRequested(Exception):
    """Ctrl-C or SIGTERM reached the launcher."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequested(signal.Signals(signum).name)


class Supervisor:
    """Named children; `wait()` returns when one exits or a stop signal arrives."""

    def __init__(self) -> None:
        self.children: dict[str, ChildProcess] = {}  # in start order, which is stop order

    def __enter__(self) -> Supervisor:
        # Installed explicitly: a launcher started in the background inherits SIGINT ignored.
        signal.signal(signal.SIGINT, _raise_stop)
        signal.signal(signal.SIGTERM, _raise_stop)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(self, name: str, argv: Sequence[str], env: dict[str, str], cwd: str) -> None:
        child = ChildProcess(name, argv, env=env, cwd=cwd, own_group=True)
        self.children[name] = child.start()

    def wait(self) -> int:
        """Block until a child exits (its status) or a stop is requested (0)."""
        try:
            while True:
                for name, child in self.children.items():
                    code = child.returncode()
                    if code is not None:
                        print(f"[run] {name} exited with status {code}; stopping", flush=True)
                        return code or 1
                time.sleep(0.2)
        except StopRequested as stop:
            print(f"[run] {stop} received; stopping", flush=True)
            return 0

    def stop_all(self, timeout: float = 20.0) -> None:
        """SIGTERM to each child in turn (its main process: Celery's stops its own pool),
        waiting for it to exit, SIGKILL to its group after `timeout`. From here on the
        launcher ignores Ctrl-C and SIGTERM: it is stopping, and still has its servers to
        stop after the children (bounded waits each)."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for name, child in self.children.items():
            if not child.alive:
                continue
            child.signal(signal.SIGTERM, whole_group=False)
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"[run] {name} did not stop in {timeout:.0f}s; killing it", flush=True)
                child.kill()
            print(f"[run] {name} stopped", flush=True)
