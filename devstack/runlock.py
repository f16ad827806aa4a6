"""One bin/run per state folder: a lock file held (flock) for the run's lifetime, so a
second run refuses to start, and a crashed run's lock goes with its process."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = "run.lock"


class AlreadyRunning(Exception):
    """Another run holds the lock; the message names it (pid and web port)."""


def _holder(text: str) -> str:
    try:
        held = json.loads(text)
        return f"pid {int(held['pid'])}, web on port {int(held['port'])}"
    except (ValueError, KeyError, TypeError):
        return "pid and port not yet written"  # it took the lock a moment ago


@contextlib.contextmanager
def run_lock(state_dir: Path, *, port: int) -> Iterator[None]:
    """Hold the state folder's lock, with our pid and port in it, or raise AlreadyRunning."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_FILE
    # Opened without truncating: the holder's pid and port stay readable to a second run.
    with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "r+") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(
                f"bin/run is already running for {state_dir} ({_holder(file.read())}); "
                "stop it first (Ctrl-C in its terminal)"
            ) from None
        file.truncate(0)
        file.write(json.dumps({"pid": os.getpid(), "port": port}))
        file.flush()
        try:
            yield
        finally:
            # Emptied, not removed: a run waiting to open the path must lock this same file.
            file.seek(0)
            file.truncate(0)
            file.flush()
