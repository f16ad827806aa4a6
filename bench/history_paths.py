"""The paths the history benchmark times, and one measurement of all of them on the
database the process points at."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench.history_admin import EXPORTED, AdminPages
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
        self.admin = AdminPages(self.client, staff, self._ok)

    def _ok(self, response: Any, status: int = 200) -> None:
        if response.status_code != status:
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")

    def reconcile(self) -> None:
        from commitlog.models import ConsumerPosition
        from commitlog.upkeep.reconcile import outbox_republish_unread

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
        from commitlog.relay.policy import RelayPolicy
        from commitlog.relay.run import relay_outbox

        run = relay_outbox(
            writers=self.writers, policy=RelayPolicy.from_settings(batch_size=BATCH_ROWS)
        )
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
        from commitlog.consumer.applier import apply_batch
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
        from commitlog.consumer.applier import apply_batch
        from commitlog.records import RawRecord

        batch = self.relayed[-1][part * CONSUMER_BATCH : (part + 1) * CONSUMER_BATCH]
        raws = [
            RawRecord("history-bench", n % 3, 10_000_000 + n, p.key.encode(), p.value)
            for n, p in enumerate(batch)
        ]
        outcome = apply_batch(raws)
        if outcome.applied != len(raws):
            raise RuntimeError(f"consumer batch applied {outcome.applied} of {len(raws)}")


def measure(paths: Paths) -> dict[str, float]:
    """Every path at the database's current size; the writes first, so that the pages show
    as many rows at every size (on the empty database, those the writes left)."""
    from commitlog.relay.run import relay_outbox
    from commitlog.relay.writer import ProcessWriter

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
    # Every other list with each filter, each export's first chunk, the key search.
    for name, url in paths.admin.urls().items():
        found[name] = _best(functools.partial(paths.admin.get, url), 1)
    for name in EXPORTED:
        export = functools.partial(paths.admin.export_first_chunk, name)
        found[f"{name} export, first chunk"] = _best(export, 1)
    return found


def _best_once(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000
