"""Child processes of a local run: started together, stopped together on Ctrl-C or SIGTERM."""

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
        self.children: dict[str, ChildProcess] = {}

    def __enter__(self) -> Supervisor:
        # Installed explicitly: a launcher started in the background inherits SIGINT ignored.
        signal.signal(signal.SIGINT, _raise_stop)
        signal.signal(signal.SIGTERM, _raise_stop)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def start(self, name: str, argv: Sequence[str], env: dict[str, str], cwd: str) -> None:
        self.children[name] = ChildProcess(name, argv, env=env, cwd=cwd).start()

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
        # SIGTERM, not SIGINT: children may have inherited SIGINT as ignored.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in self.children.values():
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, child in self.children.items():
            try:
                if child.alive:
                    child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"[run] {name} did not stop in {timeout:.0f}s; killing it", flush=True)
                child.kill()
        signal.signal(signal.SIGINT, signal.default_int_handler)
