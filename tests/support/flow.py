"""Moving records through the real relay and consumer, for tests that need them there."""

from __future__ import annotations

import json
import threading
from typing import Any

from commitlog.conf import CommitLogSettings
from commitlog.consumer.applier import BatchOutcome
from commitlog.consumer.loop import ConsumerLoop, LoopOptions
from commitlog.kafka import LogConsumer, OutgoingRecord, TransactionalWriter
from commitlog.relay.run import relay_outbox
from commitlog.relay.writer import ProcessWriter
from controlplane.services.strategies import strategy_submit
from tests.support.bodies import crc_of
from tests.support.requests import strategy_request_of


def relay_all() -> None:
    """One relay run with a writer of its own, closed afterwards."""
    writers = ProcessWriter()
    try:
        relay_outbox(writers=writers)
    finally:
        writers.close()


def consume_to_end(
    gateway: CommitLogSettings, group: str | None = None, **options: Any
) -> BatchOutcome:
    """Run the consumer loop until the records present at start are applied."""
    group = group or gateway.commitlog_group
    log = LogConsumer(
        bootstrap=gateway.commitlog_bootstrap,
        group=group,
        topic=gateway.commitlog_topic,
        session_timeout_ms=6000,
        from_beginning=options.pop("from_beginning", False),
    )
    try:
        loop_options = LoopOptions.from_settings(exit_at_end=True, group=group, **options)
        return ConsumerLoop(log, loop_options, threading.Event()).run()
    finally:
        log.close()


def produce_straight(commitlog: CommitLogSettings, records: list[OutgoingRecord]) -> None:
    """As anyone who can reach the broker could: not through the relay."""
    writer = TransactionalWriter(
        bootstrap=commitlog.commitlog_bootstrap,
        topic=commitlog.commitlog_topic,
        transactional_id=f"{commitlog.commitlog_transactional_id}-outsider",
    )
    try:
        writer.publish(records)
    finally:
        writer.close()


def submit_strategies(count: int, prefix: str = "s") -> list[str]:
    ids = []
    for i in range(count):
        node_ids = [f"{prefix}{i}-a", f"{prefix}{i}-b"]
        dag_json = json.dumps({"nodes": [{"node_id": n} for n in node_ids]})
        ack = strategy_submit(
            request=strategy_request_of(
                dag_json=dag_json,
                node_ids_crc32=crc_of(node_ids),
                world_ids=["w1"],
                meta={"execution_domain": "live"},
            )
        )
        ids.append(ack.strategy_id)
    return ids
