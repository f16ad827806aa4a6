"""Fault injection under load: `python -m reliability.faults` (or `bin/faults`).

Starts a private stack whose processes reach PostgreSQL, Kafka and Redis through a TCP
fault proxy; ramps the load up to find the rate the stack sustains without faults (unless
`--rate` is given); then drives REST load at a fraction of it from retrying clients while
it injects network faults on the proxy's links (latency, bandwidth, resets, blackholes,
several links at once) and kills and restarts the processes and servers; then checks that
every submission and batch answered 202 was recorded exactly once, that no retried
rebalance request was written twice, and reports the counts."""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from reliability import checks
from reliability.campaign import FAULTS, Injector
from reliability.load import LoadGenerator, LoadResults
from reliability.ramp import Ramp, find_sustained_rate
from reliability.stack import ROOT, FaultStack

REPORT = ROOT / "docs" / "RELIABILITY.md"
START, END = "<!-- faults:start -->", "<!-- faults:end -->"


@dataclass
class Report:
    submissions_target: int
    rate: float = 0.0
    ramp: Ramp | None = None
    duration_s: float = 0.0
    drain_s: float = 0.0
    load: LoadResults = field(default_factory=LoadResults)
    faults: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    applied_twice: int = 0
    duplicate_batches: int = 0
    recorded: int = 0

    @property
    def faults_total(self) -> int:
        return sum(self.faults.values())

    @property
    def ok(self) -> bool:
        load = self.load
        return (
            self.lost == 0
            and self.applied_twice == 0
            and self.duplicate_batches == 0
            and load.unexpected_5xx == 0
            and load.unexpected_4xx == 0
            and load.gave_up == 0
        )

    def lines(self) -> list[str]:
        load = self.load
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(load.statuses.items()))
        faults = ", ".join(f"{kind}: {self.faults.get(kind, 0)}" for kind in FAULTS)
        lines = []
        if self.ramp is not None:
            lines.append(
                f"- load held: {self.ramp.sustained_rate:.0f} requests/s sustained without"
                f" faults (ramp: {'; '.join(step.line() for step in self.ramp.steps)})"
            )
        lines += [
            f"- campaign load: {self.rate:.0f} requests/s offered",
            f"- accepted (202): {load.accepted} "
            f"({len(load.strategies)} strategies, {len(load.batches)} batches)",
            f"- faults injected: {self.faults_total} ({faults})",
            f"- records lost: {self.lost}",
            f"- records applied twice: {self.applied_twice}",
            f"- duplicate batches from retries: {self.duplicate_batches}",
            f"- 5xx answers other than 503: {load.unexpected_5xx}; unexpected 4xx:"
            f" {load.unexpected_4xx}; requests given up: {load.gave_up}",
            f"- answers by status: {statuses}; attempts without an answer (timeouts,"
            f" resets): {load.transport_errors}; retries: {load.retries}",
            f"- retried strategies found stored by an earlier attempt (409): "
            f"{load.confirmed_by_409}; rebalance answers replayed by Idempotency-Key:"
            f" {load.replays}",
            f"- recorded at the end: {self.recorded}; load lasted {self.duration_s:.0f} s,"
            f" drain after the last fault {self.drain_s:.1f} s",
        ]
        return lines


def _log(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _token(stack: FaultStack) -> str:
    state = stack.workdir / "operator.json"
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "devstack.local_operator", "--state-file", str(state)],
        env=stack.env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    token: str = json.loads(state.read_text())["token"]
    return token


def _campaign(
    stack: FaultStack, load: LoadGenerator, injector: Injector, submissions: int, faults: int
) -> None:
    gap = submissions / load.rate / max(faults, 1)
    rng = injector.rng
    while injector.total < faults:
        load.stop.wait(rng.uniform(0.3 * gap, 1.3 * gap))
        kind = injector.next_kind()
        done = injector.inject(kind)
        _log(f"fault {injector.total}/{faults}: {done}; accepted {load.results.accepted}")
    while load.results.accepted < submissions:
        time.sleep(0.5)


def run(
    *,
    submissions: int,
    faults: int,
    seed: int,
    workdir: Path,
    rate: float | None = None,
    fraction: float = 0.7,
    durations_s: tuple[float, float] = (1.0, 8.0),
    drain_timeout_s: float = 300.0,
) -> Report:
    """`rate` None: ramp first and run the campaign at `fraction` of the sustained rate."""
    rng = random.Random(seed)  # noqa: S311  (chooses faults, not secrets)
    report = Report(submissions_target=submissions)
    stack = FaultStack(workdir)
    _log(f"starting a private stack in {workdir}")
    stack.start()
    try:
        token = _token(stack)
        database_url = stack.env["DATABASE_URL"]  # direct, not through the proxy

        def make_load(rate: float, duration_s: float | None = None) -> LoadGenerator:
            return LoadGenerator(
                host="127.0.0.1", port=stack.web_port, token=token, rate=rate,
                duration_s=duration_s,
            )  # fmt: skip

        if rate is None:
            report.ramp = find_sustained_rate(make_load, database_url, log=_log)
            # Not even the first step held (a machine busy with other work): its rate.
            held = report.ramp.sustained_rate or report.ramp.steps[0].rate
            rate = fraction * held
        report.rate = rate
        load = make_load(rate)
        injector = Injector(stack, rng, durations_s)
        _log(f"load: {submissions} accepted at {rate:.0f}/s, {faults} faults")
        started = time.monotonic()
        load.start()
        try:
            _campaign(stack, load, injector, submissions, faults)
        finally:
            load.stop.set()
            load.join()
            injector.finish()
        report.duration_s = time.monotonic() - started
        report.load = load.results
        report.faults = dict(injector.counts)
        _log(f"load done: {load.results.accepted} accepted; waiting for every one to be recorded")

        accepted = set(load.results.strategies) | set(load.results.batches)
        if report.ramp is not None:
            for results in report.ramp.results:
                accepted |= set(results.strategies) | set(results.batches)
        deadline = injector.last_fault_end + drain_timeout_s
        while True:
            stack.ensure_all_running()
            try:
                recorded = checks.recorded_ids(database_url)
            except psycopg.Error as exc:
                _log(f"cannot read the result yet: {exc}")
                recorded = set()
            missing = accepted - recorded
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        report.drain_s = time.monotonic() - injector.last_fault_end
        report.lost = len(missing)
        report.recorded = len(accepted & recorded)
        report.applied_twice = checks.applied_twice(database_url)
        report.duplicate_batches = checks.duplicate_batches(database_url)
        return report
    finally:
        stack.stop()
        _log("stack stopped")


def write_report(report: Report, command: str) -> None:
    machine = "2 cores" if sys.platform.startswith("linux") else sys.platform
    section = "\n".join(
        [
            START,
            f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine}, `{command}`",
            "",
            *report.lines(),
            "",
            f"Result: {'PASS' if report.ok else 'FAIL'}",
            END,
        ]
    )
    text = REPORT.read_text() if REPORT.exists() else f"# Reliability\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    REPORT.write_text(head + section + tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reliability.faults", description=__doc__)
    parser.add_argument(
        "--submissions", type=int, default=20_000, help="202 answers to reach (default 20000)"
    )
    parser.add_argument("--faults", type=int, default=120, help="faults to inject (default 120)")
    parser.add_argument(
        "--rate", type=float, help="requests/s of the campaign (default: found by the ramp)"
    )
    parser.add_argument(
        "--fraction", type=float, default=0.7, help="of the ramp's rate (default 0.7)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--keep", type=Path, help="run the stack in this folder and keep its logs there"
    )
    parser.add_argument(
        "--write-report",
        action="store_true",
        help="write this run's figures into docs/RELIABILITY.md (default: print only)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="controlplane-faults-") as workdir:
        report = run(
            submissions=args.submissions,
            faults=args.faults,
            rate=args.rate,
            fraction=args.fraction,
            seed=args.seed,
            workdir=args.keep or Path(workdir),
        )
    for line in report.lines():
        print(line)
    print("PASS" if report.ok else "FAIL")
    if args.write_report:
        command = "bin/faults " + " ".join(argv if argv is not None else sys.argv[1:])
        write_report(report, command.strip())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
