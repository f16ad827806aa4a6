"""The transactional, idempotent producer the relay publishes with."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from confluent_kafka import (
    KafkaError,
    KafkaException,
    Message,
    Producer,
)

from commitlog.kafka.librdkafka import LIBRDKAFKA_LOGGER, kafka_error

logger = logging.getLogger(__name__)


# Named tuples rather than frozen dataclasses: the relay makes one of each per record,
# and a tuple is built in C where a frozen dataclass's __init__ runs Python per field.
class OutgoingRecord(NamedTuple):
    key: bytes
    value: bytes
    headers: list[tuple[str, str | bytes | None]] | None = None  # commitlog.signing's


class Position(NamedTuple):
    partition: int
    offset: int


class PublishError(Exception):
    """A batch did not commit; its records may be retried by the next run.

    `needs_new_writer`: the producer is unusable (fenced, fatal error, stuck transaction)
    and must be rebuilt. `failed_indexes`: records the broker refused one by one (empty
    when the whole batch failed, for example with the broker unreachable).
    """

    def __init__(
        self,
        message: str,
        *,
        needs_new_writer: bool = False,
        fenced: bool = False,
        failed_indexes: dict[int, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.needs_new_writer = needs_new_writer
        self.fenced = fenced
        self.failed_indexes = failed_indexes or {}


_FENCING_CODES = {
    KafkaError._FENCED,
    KafkaError.PRODUCER_FENCED,
    KafkaError.INVALID_PRODUCER_EPOCH,
    KafkaError.TRANSACTION_COORDINATOR_FENCED,
}


# Errors that concern one record, not the producer or the broker.
_RECORD_ERRORS = {
    KafkaError.MSG_SIZE_TOO_LARGE,
    KafkaError.INVALID_RECORD,
    KafkaError.INVALID_MSG_SIZE,
}


@dataclass
class _Deliveries:
    """Delivery reports, kept raw and read after flush: when librdkafka hits a fatal error
    (being fenced) the client has a Python exception pending while it calls the callback,
    and any call on the report inside the callback fails with SystemError."""

    reports: list[tuple[int, KafkaError | None, Message]] = field(default_factory=list)

    def callback(self, index: int) -> Any:
        def on_delivery(error: KafkaError | None, message: Message) -> None:
            self.reports.append((index, error, message))

        return on_delivery

    def read(self) -> tuple[dict[int, Position], dict[int, str], bool]:
        positions: dict[int, Position] = {}
        errors: dict[int, str] = {}
        fenced = False
        for index, error, message in self.reports:
            if error is not None:
                errors[index] = error.str()
                fenced = fenced or error.code() in _FENCING_CODES
                continue
            partition, offset = message.partition(), message.offset()
            if partition is None or offset is None:
                errors[index] = "delivery report without a partition and offset"
            else:
                positions[index] = Position(partition, offset)
        return positions, errors, fenced


class TransactionalWriter:
    """A transactional, idempotent producer: one Kafka transaction per `publish` call."""

    def __init__(
        self,
        *,
        bootstrap: str,
        topic: str,
        transactional_id: str,
        timeout_s: float = 10.0,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self.topic = topic
        self.timeout_s = timeout_s
        self._initialised = False
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "transactional.id": transactional_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
            "batch.num.messages": 10000,
            "queue.buffering.max.messages": 200000,
            "transaction.timeout.ms": max(int(timeout_s * 1000) * 3, 30000),
            "message.timeout.ms": int(timeout_s * 1000),
            "socket.connection.setup.timeout.ms": max(int(timeout_s * 1000), 1000),
            "logger": LIBRDKAFKA_LOGGER,
        }
        config.update(extra_config or {})
        self._producer = Producer(config)

    def _ensure_initialised(self) -> None:
        if not self._initialised:
            # Fences any earlier producer with this transactional.id and aborts its open txn.
            self._producer.init_transactions(self.timeout_s)
            self._initialised = True

    def publish(self, records: Sequence[OutgoingRecord]) -> list[Position]:
        """Produce the records in one transaction and commit it; positions in input order.

        Raises PublishError when the transaction did not commit.
        """
        deliveries = _Deliveries()
        try:
            self._ensure_initialised()
            self._producer.begin_transaction()
            for index, record in enumerate(records):
                refused = self._produce(record, deliveries.callback(index))
                if refused is not None:
                    # The client refused this record outright (too large, ...): the batch
                    # cannot commit whole, so it is aborted and the record blamed.
                    raise PublishError(
                        f"record refused: {refused}", failed_indexes={index: refused}
                    )
            remaining = self._producer.flush(self.timeout_s)
            positions, errors, fenced = deliveries.read()
            if remaining or errors:
                first_error = next(iter(errors.values()), "delivery timed out")
                raise PublishError(
                    f"{remaining} undelivered, {len(errors)} failed: {first_error}",
                    fenced=fenced,
                    needs_new_writer=fenced,
                    failed_indexes=errors,
                )
            self._producer.commit_transaction(self.timeout_s)
        except KafkaException as exc:
            error = kafka_error(exc)
            fenced = error is not None and error.code() in _FENCING_CODES
            fatal = error is not None and error.fatal()
            # A commit that timed out goes on inside the client, which then refuses the
            # abort and every new transaction: a producer that cannot abort is replaced.
            aborted = self._abort_quietly()
            raise PublishError(
                f"kafka: {error.str() if error else exc}",
                fenced=fenced,
                needs_new_writer=fenced or fatal or not aborted,
            ) from exc
        except PublishError as exc:
            if not self._abort_quietly():
                exc.needs_new_writer = True
            raise
        return [positions[index] for index in range(len(records))]

    def _produce(self, record: OutgoingRecord, on_delivery: Any) -> str | None:
        """Queue one record; the client's reason when it refuses this record itself."""
        while True:
            try:
                self._producer.produce(
                    self.topic,
                    key=record.key,
                    value=record.value,
                    headers=record.headers,  # None: no headers
                    on_delivery=on_delivery,
                )
                return None
            except BufferError:
                # Local queue full: let deliveries drain, then go on.
                self._producer.poll(0.05)
            except KafkaException as exc:
                error = kafka_error(exc)
                if error is None or error.code() not in _RECORD_ERRORS:
                    raise
                return error.str()

    def _abort_quietly(self) -> bool:
        """Abort the open transaction, if any; False when the producer is no longer usable."""
        if not self._initialised:
            return False
        try:
            self._producer.abort_transaction(self.timeout_s)
            return True
        except KafkaException as exc:
            error = kafka_error(exc)
            if error is not None and error.code() == KafkaError._STATE:
                return True  # no transaction was open
            logger.warning("event=relay_abort_failed error=%s", error.str() if error else exc)
            return False

    def close(self) -> None:
        try:
            self._producer.flush(0)
        finally:
            self._initialised = False
