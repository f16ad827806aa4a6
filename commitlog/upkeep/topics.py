"""The commit-log topic's wanted shape."""

from __future__ import annotations

from commitlog.conf import commitlog_settings
from commitlog.kafka import TopicReport, ensure_topic

# Compaction keeps the latest record per key: each submission's key is written once.
TOPIC_CONFIG = {"cleanup.policy": "compact"}


def commitlog_topic_ensure(*, partitions: int, replication_factor: int) -> TopicReport:
    if partitions < 1 or replication_factor < 1:
        raise ValueError("partitions and replication factor must be at least 1")
    gateway = commitlog_settings()
    return ensure_topic(
        bootstrap=gateway.commitlog_bootstrap,
        topic=gateway.commitlog_topic,
        partitions=partitions,
        replication_factor=replication_factor,
        config=TOPIC_CONFIG,
        client_config=commitlog_settings().commitlog_client_config,
    )
