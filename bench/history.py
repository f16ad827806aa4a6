"""Cost against history: each periodic task, page and write path on an empty database and
on one holding N recorded submissions with their outbox rows and dedup marks, side by
side in one run; then a prune of the rows past the retention window.

Sizes are 1M, then as many more as the seeding budget allows (up to --max-rows). At each
size the seeded database and an empty one are measured in alternating rounds in the same
minutes; each path is timed best of its tries over the rounds.

    .venv/bin/python -m bench.history [--max-rows 5000000] [--seed-budget 300]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from statistics import median
from typing import Any

from bench.harness import progress
from bench.history_paths import Paths, measure
from bench.history_report import History, report
from bench.history_seed import STRATEGY_IDS, settle
from bench.stack import BenchStack, copy_database, drop_database


def _prune() -> tuple[Any, list[str]]:
    """Prune what the seeding dated past the window; and the locks one slice takes."""
    from django.db import connection, transaction

    from commitlog.upkeep import prune

    run = prune.commitlog_prune(progress=lambda table, n: None)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            prune._OUTBOX_SLICE,
            {"cutoff": prune.retention_cutoff(), "after": 0, "limit": 5000},
        )
        # The strongest lock the slice holds on each table (its indexes take the same).
        cursor.execute(
            "SELECT c.relname, max(l.mode) FROM pg_locks AS l "
            "JOIN pg_class AS c ON c.oid = l.relation "
            "WHERE l.pid = pg_backend_pid() AND c.relkind = 'r' "
            "AND c.relnamespace = 'public'::regnamespace GROUP BY 1 ORDER BY 1"
        )
        locks = [f"{mode} on {name}" for name, mode in cursor.fetchall()]
        transaction.set_rollback(True)
    return run, locks


ROUNDS = 8  # measured rounds per size, each on both databases, after one untimed round


def _use_database(name: str) -> None:
    """Point every connection of this process (and the relay's claiming thread) at `name`:
    Django's connections share one settings dict, so the next connect goes there."""
    from django.db import connections

    connections.close_all()
    connections.settings["default"]["NAME"] = name


Timings = dict[str, float]


@dataclass(frozen=True)
class SideBySide:
    """Each path's median over the rounds on either database, and the median of the
    rounds' ratios (seeded over empty, each round's pair measured within seconds)."""

    empty: Timings
    seeded: Timings
    ratio: Timings


def _side_by_side(paths: Paths, empty: str, seeded: str) -> SideBySide:
    """Both databases in alternating rounds, so that the machine's drift over the minutes
    of a run falls on both alike."""
    rounds: dict[str, list[Timings]] = {empty: [], seeded: []}
    for name in (empty, seeded):  # both as autovacuum leaves them, after the last round's rows
        _use_database(name)
        settle()
    for round_ in range(ROUNDS + 1):
        # Each goes first in every other round: the one measured right after the switch
        # does not always pay for the other's dirty pages.
        for name in (empty, seeded) if round_ % 2 else (seeded, empty):
            _use_database(name)
            found = measure(paths)
            if round_:  # round 0 is untimed: first calls after a switch or a seeding
                rounds[name].append(found)
        progress(f"round {round_} of {ROUNDS} done")
    paths_timed = list(rounds[empty][0])
    return SideBySide(
        empty={p: median(r[p] for r in rounds[empty]) for p in paths_timed},
        seeded={p: median(r[p] for r in rounds[seeded]) for p in paths_timed},
        ratio={
            p: median(s[p] / e[p] for e, s in zip(rounds[empty], rounds[seeded], strict=True))
            for p in paths_timed
        },
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=5_000_000)
    parser.add_argument("--seed-budget", type=float, default=300.0, help="seconds of seeding")
    parser.add_argument(
        "--ids",
        choices=sorted(STRATEGY_IDS),
        default="time-ordered",
        help="strategy ids of the history and of the measured writes: the service's "
        "time-ordered ones, or random ones to measure what they cost (default time-ordered)",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not touch the docs")
    args = parser.parse_args(argv)
    command = ".venv/bin/python -m bench.history"
    if args.ids != "time-ordered":
        command += f" --ids {args.ids}"
    if args.ids == "random":
        import uuid

        from controlplane.domain import strategy_ids as ids

        ids.new_strategy_id = uuid.uuid4  # the service's and the workload's writes alike

    with BenchStack("history") as stack:
        from django.test.utils import override_settings

        from bench.history_seed import seed_history

        # The bench runs the relay itself (override_settings: commitlog.conf reads it again).
        override_settings(RELAY_NUDGE_ENABLED=False).enable()
        paths = Paths(stack)
        # The seeded database starts as a copy of the empty one (the same staff user, token
        # and content types), so one client and one token serve both.
        empty, seeded_db = stack.database, f"{stack.database}_seeded"
        _use_database("postgres")
        copy_database(empty, seeded_db)
        try:
            sizes: list[int] = []
            empties: list[dict[str, float]] = []
            results: list[dict[str, float]] = []
            ratios: list[dict[str, float]] = []
            seeded, seeding_s = 0, 0.0
            steps = sorted({*range(1_000_000, args.max_rows, 1_000_000), args.max_rows})
            for target in steps:
                needed = (target - seeded) * (seeding_s / seeded) if seeded else 0.0
                if seeded and seeding_s + needed > args.seed_budget:
                    progress(f"{target:,} rows would not fit in the seeding budget")
                    break
                _use_database(seeded_db)
                started = time.perf_counter()
                seed_history(
                    seeded,
                    target - seeded,
                    ids=args.ids,
                    on_chunk=lambda n: progress(f"seeded {n:,}"),
                )
                seeding_s += time.perf_counter() - started
                seeded = target
                pair = _side_by_side(paths, empty, seeded_db)
                sizes.append(seeded)
                empties.append(pair.empty)
                results.append(pair.seeded)
                ratios.append(pair.ratio)
                progress(f"{seeded:,}: {pair}")
            _use_database(seeded_db)
            progress("pruning what is past the retention window")
            pruned, locks = _prune()
            progress(pruned.summary())
            machine = stack.machine()
        finally:
            _use_database(empty)
            drop_database(seeded_db)

    report(
        History(
            sizes, results, empties, ratios, seeded, seeding_s, pruned, locks, args.ids, ROUNDS
        ),
        machine,
        command,
        write=not args.no_write,
    )


if __name__ == "__main__":
    main()
