"""The latency section's load: submissions at a fixed rate from a few processes, and a
reader that notes when each record became readable in Kafka."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from bench.workload import PreparedSubmission

GENERATORS = 2  # processes sharing the rate, so one slow call does not hold the schedule back


@dataclass(frozen=True)
class Submitted:
    strategy_id: str
    scheduled: float
    committed: float


@dataclass(frozen=True)
class Phase:
    rate: int
    mode: str  # "service": strategy_submit; "direct": the same rows and nudge, no validation

    @property
    def label(self) -> str:
        return f"{self.rate}/s" + (" direct insert" if self.mode == "direct" else "")


def submit_service(body: dict[str, Any]) -> str:
    """The request's one validation pass (the API's serializer), then the service."""
    from controlplane.api.serializers import StrategySubmitIn
    from controlplane.services.strategies import strategy_submit

    incoming = StrategySubmitIn(data=body)
    incoming.is_valid(raise_exception=True)
    return strategy_submit(request=incoming.validated_data).strategy_id


def insert_direct(row: PreparedSubmission) -> str:
    """The two rows strategy_submit writes, and its nudge, without the validation."""
    from bench.workload import insert_rows
    from commitlog.outbox.nudge import nudge_relay_on_commit

    insert_rows(row)
    nudge_relay_on_commit()
    return str(row.strategy_id)


def submitter(mode: str, salt: str, indexes: list[int]) -> list[Callable[[], str]]:
    """One call per submission, each writing its rows in the caller's transaction."""
    from bench.workload import prepare_many, request_body

    if mode == "service":
        return [partial(submit_service, request_body(index, salt)) for index in indexes]
    step = indexes[1] - indexes[0] if len(indexes) > 1 else 1
    rows = prepare_many(len(indexes), salt, first=indexes[0], step=step) if indexes else []
    return [partial(insert_direct, row) for row in rows]


def note_time(into: list[float]) -> None:
    into.append(time.time())


def generate(
    phase: Phase, seconds: float, offset: int, salt: str, start_at: float, out: Connection
) -> None:
    """Runs in a spawned process: submit on a fixed schedule until the phase's time is up."""
    import os

    import django

    # Each submission's INFO line would bury the benchmark's progress on the terminal.
    os.environ["LOG_LEVEL"] = "WARNING"

    django.setup()
    from django.db import connection, transaction

    connection.ensure_connection()
    interval = GENERATORS / phase.rate
    first = start_at + offset / phase.rate
    count = int(seconds * phase.rate / GENERATORS)
    calls = submitter(phase.mode, salt, [offset + GENERATORS * n for n in range(count)])
    results: list[tuple[str, float, float]] = []
    for n, call in enumerate(calls):
        scheduled = first + n * interval
        pause = scheduled - time.time()
        if pause > 0:
            time.sleep(pause)
        elif time.time() > start_at + seconds:
            break  # fallen behind for the whole phase: the achieved rate says so
        committed: list[float] = []
        with transaction.atomic():
            # Registered first, so it runs right after COMMIT, before the relay nudge.
            transaction.on_commit(partial(note_time, committed))
            strategy_id = call()
        results.append((strategy_id, scheduled, committed[0]))
    out.send(results)
    out.close()


class KafkaReader:
    """Notes when each record key becomes readable by a read_committed consumer."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from confluent_kafka import OFFSET_END, Consumer, TopicPartition

        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": "bench-latency-reader",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 5,
            }
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self._consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in partitions])
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self._consumer.poll(0.05)
            if message is None or message.error() is not None:
                continue
            key = message.key()
            if key is not None:
                self.seen.setdefault(key.decode().removeprefix("ingest:"), time.time())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._consumer.close()
