"""A CI-sized run of the fault-injection suite, every kind of fault once (bin/faults runs
the full one)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reliability.campaign import FAULTS
from reliability.faults import run

# The drain's own deadline ends the run with its report well before pytest's timeout
# would kill it (and the report with it) on a loaded machine; the stack's start-up and
# the load come on top of the drain.
DRAIN_TIMEOUT_S = 300.0


@pytest.fixture
def stack_dir() -> Iterator[Path]:
    """Outside pytest's temporary tree: the embedded PostgreSQL runs as another user, who
    must traverse every parent folder, and another pytest session starting meanwhile sets
    pytest's own root back to owner-only (seen: pg_ctl refused its data directory)."""
    path = Path(tempfile.mkdtemp(prefix="controlplane-faults-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.timeout(DRAIN_TIMEOUT_S + 600)
def test_accepted_work_survives_network_faults_kills_and_restarts(stack_dir: Path) -> None:
    report = run(
        submissions=400,
        faults=len(FAULTS),
        rate=30,
        seed=11,
        workdir=stack_dir / "stack",
        durations_s=(0.5, 3.0),
        drain_timeout_s=DRAIN_TIMEOUT_S,
    )
    assert report.load.accepted >= 400
    assert report.faults == dict.fromkeys(FAULTS, 1), report.lines()  # every kind, once
    assert report.lost == 0, report.lines()
    assert report.applied_twice == 0, report.lines()
    assert report.duplicate_batches == 0, report.lines()
    assert report.load.unexpected_5xx == 0, report.lines()
    assert report.load.unexpected_4xx == 0, report.lines()
    assert report.load.gave_up == 0, report.lines()
    assert report.recorded == report.load.accepted
    assert report.drain_s < DRAIN_TIMEOUT_S, report.lines()
