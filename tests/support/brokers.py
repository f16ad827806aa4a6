"""The private broker's shape, restarting it, and a broker behind the fault proxy, for
tests that stop, restart or cut off a broker of their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from commitlog.upkeep.topics import commitlog_topic_ensure
from devstack.kafka import EmbeddedKafka
from devstack.net import free_port
from reliability.proxy import FaultProxy, Link

PRIVATE_PARTITIONS = 1


def restart_private_broker(broker: EmbeddedKafka) -> None:
    """Stop and start on the same port; memory storage comes back empty, so the topic too."""
    broker.stop()
    broker.start()
    commitlog_topic_ensure(partitions=PRIVATE_PARTITIONS, replication_factor=1)


@contextmanager
def broker_behind_proxy(log_file: Path | None = None) -> Iterator[Link]:
    """An embedded broker reached only through a fault proxy link (`link.address`): it
    advertises the link's address, so no client goes around the link's faults."""
    proxy = FaultProxy().start()
    try:
        link = proxy.add("kafka", free_port())
        broker = EmbeddedKafka(
            port=link.upstream_port, advertised_port=link.port, log_file=log_file
        )
        broker.start()
        try:
            yield link
        finally:
            broker.stop()
    finally:
        proxy.stop()
