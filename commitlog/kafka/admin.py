"""Topic administration and broker probes."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    KafkaError,
    KafkaException,
)
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from commitlog.kafka.librdkafka import LIBRDKAFKA_LOGGER, kafka_error

logger = logging.getLogger(__name__)


def _admin(
    bootstrap: str, timeout_s: float, client_config: Mapping[str, str] | None
) -> AdminClient:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "socket.connection.setup.timeout.ms": int(timeout_s * 1000),
        "logger": LIBRDKAFKA_LOGGER,
        **(client_config or {}),  # security: SASL credentials, TLS
    }
    return AdminClient(config)


@dataclass(frozen=True)
class TopicReport:
    created: bool
    partitions: int
    differences: dict[str, tuple[str | None, str]]  # name -> (actual, wanted)


def ensure_topic(
    *,
    bootstrap: str,
    topic: str,
    partitions: int,
    replication_factor: int,
    config: dict[str, str],
    timeout_s: float = 15.0,
    client_config: Mapping[str, str] | None = None,
) -> TopicReport:
    """Create the topic if it is missing; report how an existing one differs."""
    admin = _admin(bootstrap, timeout_s, client_config)
    metadata = admin.list_topics(timeout=timeout_s)
    existing = metadata.topics.get(topic)
    if existing is None or existing.error is not None:
        futures = admin.create_topics(
            [NewTopic(topic, partitions, replication_factor, config=config)],
            operation_timeout=timeout_s,
            request_timeout=timeout_s,
        )
        try:
            futures[topic].result(timeout_s)
            return TopicReport(created=True, partitions=partitions, differences={})
        except KafkaException as exc:
            error = kafka_error(exc)
            if error is None or error.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        existing = admin.list_topics(topic, timeout=timeout_s).topics[topic]

    actual_partitions = len(existing.partitions)
    differences: dict[str, tuple[str | None, str]] = {}
    if actual_partitions != partitions:
        differences["partitions"] = (str(actual_partitions), str(partitions))
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    described = admin.describe_configs([resource], request_timeout=timeout_s)[resource].result(
        timeout_s
    )
    for name, wanted in config.items():
        entry = described.get(name)
        actual = entry.value if entry is not None else None
        if actual != wanted:
            differences[name] = (actual, wanted)
    return TopicReport(created=False, partitions=actual_partitions, differences=differences)


def wait_for_broker(
    bootstrap: str, timeout_s: float, client_config: Mapping[str, str] | None = None
) -> bool:
    """True once the broker answers a metadata request, False at the deadline."""
    deadline = time.monotonic() + timeout_s
    admin = _admin(bootstrap, 2.0, client_config)
    while time.monotonic() < deadline:
        try:
            admin.list_topics(timeout=2.0)
            return True
        except KafkaException:
            time.sleep(0.2)
    return False


def broker_reachable(
    bootstrap: str, timeout_s: float, client_config: Mapping[str, str] | None = None
) -> bool:
    """One metadata request; False when the broker does not answer in time."""
    try:
        _admin(bootstrap, timeout_s, client_config).list_topics(timeout=timeout_s)
        return True
    except KafkaException:
        return False
