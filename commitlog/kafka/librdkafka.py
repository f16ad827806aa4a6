"""What every client of ours shares: librdkafka's log lines go to Python logging, and the
KafkaError inside a KafkaException."""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError, KafkaException

LIBRDKAFKA_LOGGER = logging.getLogger("commitlog.kafka.librdkafka")


def kafka_error(exc: KafkaException) -> KafkaError | None:
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, KafkaError) else None
