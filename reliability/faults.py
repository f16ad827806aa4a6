"""Fault injection under load: `python -m reliability.faults` (or `bin/faults`).

Drives steady REST load against a private stack while it repeatedly SIGKILLs the relay
worker and the consumer, stops and restarts the Kafka-protocol broker and restarts
PostgreSQL; then checks that every submission and batch answered 202 was recorded exactly
once, and reports the counts."""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from reliability.load import LoadGenerator, LoadResults
from reliability.stack import ROOT, FaultStack

FAULTS = ("kill_worker", "kill_consumer", "restart_broker", "restart_postgres")
REPORT = ROOT / "docs" / "RELIABILITY.md"
START, END = "<!-- faults:start -->", "<!-- faults:end -->"


@dataclass
class Report:
    submissions_target: int
    duration_s: float = 0.0
    drain_s: float = 0.0
    load: LoadResults = field(default_factory=LoadResults)
    faults: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    applied_twice: int = 0
    recorded: int = 0

    @property
    def faults_total(self) -> int:
        return sum(self.faults.values())

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.applied_twice == 0 and self.load.unexpected_5xx == 0

    def lines(self) -> list[str]:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.load.statuses.items()))
        faults = ", ".join(f"{kind}: {self.faults[kind]}" for kind in FAULTS)
        return [
            f"- accepted (202): {self.load.accepted} "
            f"({len(self.load.strategies)} strategies, {len(self.load.batches)} batches)",
            f"- faults injected: {self.faults_total} ({faults})",
            f"- records lost: {self.lost}",
            f"- records applied twice: {self.applied_twice}",
            f"- 5xx answers other than 503: {self.load.unexpected_5xx}",
            f"- answers by status: {statuses}; connection errors: {self.load.transport_errors}",
            f"- recorded at the end: {self.recorded}; load lasted {self.duration_s:.0f} s, "
            f"draining after it {self.drain_s:.0f} s",
        ]


def _log(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _token(stack: FaultStack) -> str:
    state = stack.workdir / "operator.json"
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "bootstrap_local_operator", "--state-file", str(state)],
        env=stack.env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    token: str = json.loads(state.read_text())["token"]
    return token


def _inject(stack: FaultStack, kind: str, rng: random.Random) -> None:
    if kind in ("kill_worker", "kill_consumer"):
        stack.kill_and_restart(kind.removeprefix("kill_"))
    elif kind == "restart_broker":
        stack.restart_broker(down_s=rng.uniform(0.2, 2.0))
    else:
        stack.restart_postgres(down_s=rng.uniform(0.2, 1.5), mode=rng.choice(["fast", "immediate"]))


def _recorded_ids(database_url: str) -> tuple[set[str], int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT strategy_id::text FROM controlplane_strategysubmission"
            " WHERE status = 'recorded' UNION ALL"
            " SELECT batch_id FROM controlplane_rebalancebatch WHERE status = 'recorded'"
        )
        ids = {row[0] for row in rows}
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT aggregate_id FROM fault_apply_audit"
            " GROUP BY aggregate_id HAVING count(*) > 1) AS t"
        ).fetchone()
    return ids, int(twice[0]) if twice else 0


def run(
    *,
    submissions: int,
    faults: int,
    rate: float,
    seed: int,
    workdir: Path,
    drain_timeout_s: float = 300.0,
) -> Report:
    rng = random.Random(seed)  # noqa: S311  (chooses faults, not secrets)
    report = Report(submissions_target=submissions)
    stack = FaultStack(workdir)
    _log(f"starting a private stack in {workdir}")
    stack.start()
    try:
        load = LoadGenerator(
            host="127.0.0.1", port=stack.web_port, token=_token(stack), rate=rate, total=submissions
        )
        expected_s = submissions / rate
        gap = expected_s / max(faults, 1)
        _log(f"load: {submissions} accepted at {rate:.0f}/s (~{expected_s:.0f} s), {faults} faults")
        started = time.monotonic()
        load.start()
        while report.faults_total < faults and load.results.accepted < submissions:
            time.sleep(rng.uniform(0.3 * gap, 1.3 * gap))
            kind = rng.choice(FAULTS)
            _inject(stack, kind, rng)
            report.faults[kind] += 1
            _log(f"fault {report.faults_total}/{faults}: {kind}; accepted {load.results.accepted}")
        while report.faults_total < faults:  # load finished first: keep the faults coming
            kind = rng.choice(FAULTS)
            _inject(stack, kind, rng)
            report.faults[kind] += 1
        load.join()
        report.duration_s = time.monotonic() - started
        report.load = load.results
        _log(f"load done: {load.results.accepted} accepted; waiting for every one to be recorded")

        accepted = set(load.results.strategies) | set(load.results.batches)
        drain_started = time.monotonic()
        deadline = drain_started + drain_timeout_s
        database_url = stack.env["DATABASE_URL"]
        while True:
            stack.ensure_all_running()
            try:
                recorded, report.applied_twice = _recorded_ids(database_url)
            except psycopg.Error as exc:
                _log(f"cannot read the result yet: {exc}")
                recorded = set()
            missing = accepted - recorded
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        report.drain_s = time.monotonic() - drain_started
        report.lost = len(missing)
        report.recorded = len(accepted & recorded)
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
        "--submissions", type=int, default=10_000, help="202 answers to reach (default 10000)"
    )
    parser.add_argument("--faults", type=int, default=60, help="faults to inject (default 60)")
    parser.add_argument("--rate", type=float, default=80.0, help="requests/s (default 80)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
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
            seed=args.seed,
            workdir=Path(workdir),
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
