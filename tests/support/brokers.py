"""The private broker's shape, and restarting it, for tests that stop and start it."""

from __future__ import annotations

from commitlog.upkeep.topics import commitlog_topic_ensure
from devstack.kafka import EmbeddedKafka

PRIVATE_PARTITIONS = 1


def restart_private_broker(broker: EmbeddedKafka) -> None:
    """Stop and start on the same port; memory storage comes back empty, so the topic too."""
    broker.stop()
    broker.start()
    commitlog_topic_ensure(partitions=PRIVATE_PARTITIONS, replication_factor=1)
