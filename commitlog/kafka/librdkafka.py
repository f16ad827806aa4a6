"""What every client of ours shares: librdkafka's log lines go to Python logging, and the
KafkaError inside a KafkaException."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaError, KafkaException

# How confluent-kafka hands a librdkafka line to the `logger` it is given.
_CLIENT_FORMAT = "%s [%s] %s"  # facility, client name, text
_FIELDS = "event=librdkafka facility=%s client=%s message=%s"


class _AsFields(logging.LoggerAdapter[logging.Logger]):
    """librdkafka's lines as key=value fields, as every other line of ours."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if msg == _CLIENT_FORMAT and len(args) == 3:
            msg = _FIELDS
        self.logger.log(level, msg, *args, **kwargs)


LIBRDKAFKA_LOGGER = _AsFields(logging.getLogger("commitlog.kafka.librdkafka"), {})


def kafka_error(exc: KafkaException) -> KafkaError | None:
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, KafkaError) else None
