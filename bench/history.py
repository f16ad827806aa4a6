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
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench.harness import progress
from bench.history_report import History, report
from bench.history_seed import settle
from bench.stack import BenchStack

TRIES = 3
BATCH_TRIES = 5  # a batch's time moves with the broker and the relay's threads: more tries
BATCH_ROWS = 1000  # one relay batch (RELAY_BATCH_SIZE)
CONSUMER_BATCH = 500  # one consumer batch (CONSUMER_BATCH_SIZE)


def _best(call: Callable[[], Any], repeat: int) -> float:
    """Best of TRIES of the mean of `repeat` calls, in milliseconds."""
    tries = []
    for _ in range(TRIES):
        started = time.perf_counter()
        for _ in range(repeat):
            call()
        tries.append((time.perf_counter() - started) / repeat * 1000)
    return min(tries)


class Paths:
    """The paths, each a callable the timing loop calls; state they need is made here."""

    def __init__(self, stack: BenchStack) -> None:
        from django.contrib.auth.models import User
        from django.test import Client

        from controlplane.services.credentials import credential_issue

        self.stack = stack
        staff = User.objects.create_superuser("bench")
        self.client = Client(HTTP_HOST="localhost")
        self.client.force_login(staff)
        self.token = credential_issue(name="history bench").token
        self.serial = 0
        self.relayed: list[Any] = []
        self.writers: Any = None

    def _ok(self, response: Any, status: int = 200) -> None:
        if response.status_code != status:
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")

    def reconcile(self) -> None:
        from commitlog.models import ConsumerPosition
        from commitlog.reconcile import outbox_republish_unread

        # A live consumer with no lag, so the reconciler goes on to look for lost rows.
        ConsumerPosition.objects.update_or_create(
            group=self.stack.group,
            topic=self.stack.topic,
            partition=0,
            defaults={"committed_offset": 0, "end_offset": 0},
        )
        result = outbox_republish_unread(
            older_than=timedelta(seconds=60), consumer_fresh_within=timedelta(seconds=300)
        )
        if result.skipped or result.republished:
            raise RuntimeError(f"reconciler did not scan as on a healthy system: {result}")

    def dashboard(self) -> None:
        self._ok(self.client.get("/admin/dashboard/"))

    def metrics(self) -> None:
        self._ok(self.client.get("/metrics"))

    def changelist(self) -> None:
        self._ok(self.client.get("/admin/controlplane/strategysubmission/"))

    def search(self) -> None:
        self._ok(self.client.get("/admin/controlplane/strategysubmission/?q=0badc0ffee"))

    def submit(self) -> None:
        import json

        from bench.workload import request_body

        self.serial += 1
        response = self.client.post(
            "/strategies",
            json.dumps(request_body(self.serial, salt="api")),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )
        self._ok(response, 202)

    def relay_batch(self) -> None:
        from commitlog.relay import RelayPolicy, relay_outbox

        run = relay_outbox(writers=self.writers, policy=RelayPolicy(batch_size=BATCH_ROWS))
        if run.published != BATCH_ROWS:
            raise RuntimeError(f"relay batch published {run.published}")

    def prepare_relay(self) -> None:
        from bench.workload import copy_rows, prepare_many

        self.serial += 1
        batch = prepare_many(BATCH_ROWS, salt=f"relay{self.serial}-")
        copy_rows(batch)
        self.relayed.append(batch)

    def read_back_the_rest(self) -> None:
        """Apply what is published and unread (the API's submissions), untimed: a healthy
        system has read everything back, which the reconciler checks."""
        from commitlog.applier import apply_batch
        from commitlog.models import OutboxEvent, UnreadRecord
        from commitlog.records import RawRecord

        unread = OutboxEvent.objects.filter(pk__in=UnreadRecord.objects.values("outbox_id"))
        raws = [
            RawRecord(
                "history-bench",
                row.published_partition or 0,
                row.id,
                row.key.encode(),
                bytes(row.value),
            )
            for row in unread
        ]
        if raws:
            apply_batch(raws)

    def consumer_batch(self, part: int = 0) -> None:
        from commitlog.applier import apply_batch
        from commitlog.records import RawRecord

        batch = self.relayed[-1][part * CONSUMER_BATCH : (part + 1) * CONSUMER_BATCH]
        raws = [
            RawRecord("history-bench", n % 3, 10_000_000 + n, p.key.encode(), p.value)
            for n, p in enumerate(batch)
        ]
        outcome = apply_batch(raws)
        if outcome.applied != len(raws):
            raise RuntimeError(f"consumer batch applied {outcome.applied} of {len(raws)}")


def _measure(paths: Paths) -> dict[str, float]:
    """Every path at the database's current size; the writes first, so that the pages show
    as many rows at every size (on the empty database, those the writes left)."""
    from commitlog.relay import relay_outbox
    from commitlog.writer import ProcessWriter

    found = {"POST /strategies": _best(paths.submit, 20)}
    paths.writers = ProcessWriter()
    paths.writers.get().publish([])  # init_transactions outside the timed part
    relay_outbox(writers=paths.writers)  # the submissions above, untimed
    paths.read_back_the_rest()
    relay, consume = [], []
    for _ in range(BATCH_TRIES):
        paths.prepare_relay()
        relay.append(_best_once(paths.relay_batch))
        consume.append(_best_once(paths.consumer_batch))
        paths.consumer_batch(part=1)  # the batch's other half, so nothing is left unread
    paths.writers.close()
    found["relay batch (1,000 rows)"] = min(relay)
    found["consumer batch (500 records)"] = min(consume)
    found |= {
        "reconciler run": _best(paths.reconcile, 5),
        "dashboard page": _best(paths.dashboard, 5),
        "/metrics": _best(paths.metrics, 5),
        "submissions changelist": _best(paths.changelist, 3),
        "changelist hash search": _best(paths.search, 3),
    }
    return found


def _best_once(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _prune() -> tuple[Any, list[str]]:
    """Prune what the seeding dated past the window; and the locks one slice takes."""
    from django.db import connection, transaction

    from commitlog import prune

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


ROUNDS = 6  # measured rounds per size, each on both databases, after one untimed round


def _use_database(name: str) -> None:
    """Point every connection of this process (and the relay's claiming thread) at `name`:
    Django's connections share one settings dict, so the next connect goes there."""
    from django.db import connections

    connections.close_all()
    connections.settings["default"]["NAME"] = name


def _server(statement: str, *names: str) -> None:
    """One statement on the server's maintenance database, `names` quoted into it."""
    import psycopg
    from psycopg import sql

    from bench.harness import PG_SERVER_URL

    query = sql.SQL(statement).format(*(sql.Identifier(n) for n in names))
    with psycopg.connect(f"{PG_SERVER_URL}/postgres", autocommit=True) as admin:
        admin.execute(query)


def _drop_database(name: str) -> None:
    _server("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def _copy_database(source: str, target: str) -> None:
    _drop_database(target)
    _server("CREATE DATABASE {} TEMPLATE {}", target, source)


Timings = dict[str, float]


def _side_by_side(paths: Paths, empty: str, seeded: str) -> tuple[Timings, Timings]:
    """Both databases in alternating rounds, so that the machine's drift over the minutes
    of a run falls on both alike; each path's best over the rounds on each."""
    best: dict[str, Timings] = {empty: {}, seeded: {}}
    for name in (empty, seeded):  # both as autovacuum leaves them, after the last round's rows
        _use_database(name)
        settle()
    for round_ in range(ROUNDS + 1):
        # Each goes first in every other round: the one measured right after the switch
        # does not always pay for the other's dirty pages.
        for name in (empty, seeded) if round_ % 2 else (seeded, empty):
            _use_database(name)
            found = _measure(paths)
            if round_ == 0:
                continue  # untimed: first calls after a switch or a seeding
            for path, ms in found.items():
                best[name][path] = min(ms, best[name].get(path, ms))
        progress(f"round {round_} of {ROUNDS} done")
    return best[empty], best[seeded]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=5_000_000)
    parser.add_argument("--seed-budget", type=float, default=300.0, help="seconds of seeding")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch the docs")
    args = parser.parse_args(argv)
    command = ".venv/bin/python -m bench.history"

    with BenchStack("history") as stack:
        from django.conf import settings

        from bench.history_seed import seed_history

        settings.RELAY_NUDGE_ENABLED = False  # the bench runs the relay itself
        paths = Paths(stack)
        # The seeded database starts as a copy of the empty one (the same staff user, token
        # and content types), so one client and one token serve both.
        empty, seeded_db = stack.database, f"{stack.database}_seeded"
        _use_database("postgres")
        _copy_database(empty, seeded_db)
        try:
            sizes: list[int] = []
            empties: list[dict[str, float]] = []
            results: list[dict[str, float]] = []
            seeded, seeding_s = 0, 0.0
            steps = sorted({*range(1_000_000, args.max_rows, 1_000_000), args.max_rows})
            for target in steps:
                needed = (target - seeded) * (seeding_s / seeded) if seeded else 0.0
                if seeded and seeding_s + needed > args.seed_budget:
                    progress(f"{target:,} rows would not fit in the seeding budget")
                    break
                _use_database(seeded_db)
                started = time.perf_counter()
                seed_history(seeded, target - seeded, on_chunk=lambda n: progress(f"seeded {n:,}"))
                seeding_s += time.perf_counter() - started
                seeded = target
                at_empty, at_size = _side_by_side(paths, empty, seeded_db)
                sizes.append(seeded)
                empties.append(at_empty)
                results.append(at_size)
                progress(f"{seeded:,}: {at_size}; empty beside it: {at_empty}")
            _use_database(seeded_db)
            progress("pruning what is past the retention window")
            pruned, locks = _prune()
            progress(pruned.summary())
            machine = stack.machine()
        finally:
            _use_database(empty)
            _drop_database(seeded_db)

    report(
        History(sizes, results, empties, seeded, seeding_s, pruned, locks),
        machine,
        command,
        write=not args.no_write,
    )


if __name__ == "__main__":
    main()
