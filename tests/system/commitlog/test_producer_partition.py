"""The relay's producer when the network to the broker is cut in the middle of a commit
(found by the fault campaign: a blackhole on the Kafka link left every later batch failing
with "Conflicting commit_transaction API call is already in progress")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from commitlog.kafka.admin import ensure_topic
from commitlog.kafka.producer import OutgoingRecord, PublishError, TransactionalWriter
from reliability.proxy import Link
from tests.support.brokers import broker_behind_proxy

TOPIC = "partitioned-commits"
RECORD = OutgoingRecord(key=b"k", value=b"v")


@pytest.fixture
def kafka_link(tmp_path: Path) -> Iterator[Link]:
    with broker_behind_proxy(tmp_path / "kafka.log") as link:
        ensure_topic(
            bootstrap=link.address, topic=TOPIC, partitions=1, replication_factor=1, config={}
        )
        yield link


class _PartitionBeforeCommit:
    """The real producer, with the link blackholed just as it commits."""

    def __init__(self, producer: Any, link: Link) -> None:
        self._producer = producer
        self._link = link

    def __getattr__(self, name: str) -> Any:
        return getattr(self._producer, name)

    def commit_transaction(self, timeout: float) -> None:
        self._link.set_blackhole(True)
        self._producer.commit_transaction(timeout)


def _writer(link: Link) -> TransactionalWriter:
    return TransactionalWriter(
        bootstrap=link.address, topic=TOPIC, transactional_id="partitioned", timeout_s=2.0
    )


def test_a_commit_cut_off_by_a_partition_asks_for_a_new_writer(kafka_link: Link) -> None:
    writer = _writer(kafka_link)
    assert len(writer.publish([RECORD])) == 1  # healthy: initialised, one commit done
    writer._producer = _PartitionBeforeCommit(writer._producer, kafka_link)  # type: ignore[assignment]
    with pytest.raises(PublishError) as failed:
        writer.publish([RECORD])
    # The commit may still be under way inside the client, which then refuses both an abort
    # and any new transaction: only a new producer can go on.
    assert failed.value.needs_new_writer, failed.value
    kafka_link.set_blackhole(False)
    assert len(_writer(kafka_link).publish([RECORD])) == 1
