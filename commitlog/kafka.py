"""The only module that imports confluent_kafka: a transactional writer, a consumer and
topic administration, all speaking plain Python values to the rest of the code."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.cimpl import NewTopic

from commitlog.records import RawRecord

logger = logging.getLogger(__name__)


# Named tuples rather than frozen dataclasses: the relay makes one of each per record,
# and a tuple is built in C where a frozen dataclass's __init__ runs Python per field.
class OutgoingRecord(NamedTuple):
    key: bytes
    value: bytes


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


def _kafka_error(exc: KafkaException) -> KafkaError | None:
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, KafkaError) else None


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
            "logger": logging.getLogger("commitlog.kafka.librdkafka"),
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
            error = _kafka_error(exc)
            fenced = error is not None and error.code() in _FENCING_CODES
            fatal = error is not None and error.fatal()
            self._abort_quietly()
            raise PublishError(
                f"kafka: {error.str() if error else exc}",
                fenced=fenced,
                needs_new_writer=fenced or fatal or not self._initialised,
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
                    self.topic, key=record.key, value=record.value, on_delivery=on_delivery
                )
                return None
            except BufferError:
                # Local queue full: let deliveries drain, then go on.
                self._producer.poll(0.05)
            except KafkaException as exc:
                error = _kafka_error(exc)
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
            error = _kafka_error(exc)
            if error is not None and error.code() == KafkaError._STATE:
                return True  # no transaction was open
            logger.warning("event=relay_abort_failed error=%s", error.str() if error else exc)
            return False

    def close(self) -> None:
        try:
            self._producer.flush(0)
        finally:
            self._initialised = False


def _admin(bootstrap: str, timeout_s: float) -> AdminClient:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "socket.connection.setup.timeout.ms": int(timeout_s * 1000),
        "logger": logging.getLogger("commitlog.kafka.librdkafka"),
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
) -> TopicReport:
    """Create the topic if it is missing; report how an existing one differs."""
    admin = _admin(bootstrap, timeout_s)
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
            error = _kafka_error(exc)
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


def wait_for_broker(bootstrap: str, timeout_s: float) -> bool:
    """True once the broker answers a metadata request, False at the deadline."""
    deadline = time.monotonic() + timeout_s
    admin = _admin(bootstrap, 2.0)
    while time.monotonic() < deadline:
        try:
            admin.list_topics(timeout=2.0)
            return True
        except KafkaException:
            time.sleep(0.2)
    return False


class LogConsumer:
    """A consumer-group member with manual offset commits and read_committed isolation."""

    # How long a poll that has its first record waits for more to fill the batch.
    BATCH_LINGER_S = 0.1

    def __init__(
        self,
        *,
        bootstrap: str,
        group: str,
        topic: str,
        from_beginning: bool = False,
        session_timeout_ms: int = 10000,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self.topic = topic
        self._from_beginning = from_beginning
        self._assigned: set[int] = set()
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": session_timeout_ms,
            "heartbeat.interval.ms": max(500, session_timeout_ms // 5),
            # A broker that does not answer a waiting fetch as soon as records arrive (the
            # embedded one) would otherwise hold them back for up to the 500 ms default.
            "fetch.wait.max.ms": 50,
            "logger": logging.getLogger("commitlog.kafka.librdkafka"),
        }
        config.update(extra_config or {})
        self._consumer = Consumer(config)
        self._consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._from_beginning:
            for partition in partitions:
                partition.offset = OFFSET_BEGINNING
            consumer.assign(partitions)
        self._assigned |= {p.partition for p in partitions}
        logger.info(
            "event=consumer_assigned topic=%s partitions=%s",
            self.topic,
            ",".join(str(p.partition) for p in partitions),
        )

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned -= {p.partition for p in partitions}
        logger.info(
            "event=consumer_revoked topic=%s partitions=%s",
            self.topic,
            ",".join(str(p.partition) for p in partitions),
        )

    @property
    def assigned(self) -> set[int]:
        return set(self._assigned)

    def poll(self, max_records: int, timeout_s: float) -> list[RawRecord]:
        """Up to `max_records`: waits at most `timeout_s` for the first, then gathers more
        for at most `BATCH_LINGER_S`. (`consume` alone waits until the batch is full or the
        timeout passes, which holds records back for the whole timeout when traffic is
        light; under load the batch fills at once either way.)"""
        first = self._consumer.poll(timeout_s)
        if first is None:
            return []
        messages = [first]
        if max_records > 1:
            linger = min(timeout_s, self.BATCH_LINGER_S)
            messages += self._consumer.consume(num_messages=max_records - 1, timeout=linger)
        records: list[RawRecord] = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                if error.code() != KafkaError._PARTITION_EOF:
                    logger.warning("event=consumer_error error=%s", error.str())
                continue
            partition, offset = message.partition(), message.offset()
            if partition is None or offset is None:
                continue
            records.append(
                RawRecord(
                    message.topic() or self.topic, partition, offset, message.key(), message.value()
                )
            )
        return records

    def commit(self, next_offsets: dict[tuple[str, int], int]) -> bool:
        """Commit the next offsets to read; False (logged) when the broker refused."""
        if not next_offsets:
            return True
        offsets = [TopicPartition(t, p, o) for (t, p), o in sorted(next_offsets.items())]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
            return True
        except KafkaException as exc:
            # Typically a rebalance took the partition away: its new owner re-reads these
            # records and drops them as duplicates.
            logger.warning("event=consumer_commit_failed error=%s", exc)
            return False

    def end_offsets(self, timeout_s: float = 10.0) -> dict[int, int]:
        """High watermarks of the assigned partitions."""
        return {
            p: self._consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout=timeout_s
            )[1]
            for p in sorted(self._assigned)
        }

    def high_watermarks(self) -> dict[int, int]:
        """End offsets as last seen in fetch responses (no broker round trip)."""
        ends: dict[int, int] = {}
        for partition in sorted(self._assigned):
            tp = TopicPartition(self.topic, partition)
            try:
                high = self._consumer.get_watermark_offsets(tp, cached=True)[1]
            except KafkaException:
                continue
            if high >= 0:
                ends[partition] = high
        return ends

    def positions(self) -> dict[int, int]:
        """Next offset this member will read per assigned partition (past transaction
        markers, unlike the last record's offset + 1); unknown ones are left out."""
        assigned = [TopicPartition(self.topic, p) for p in sorted(self._assigned)]
        return {
            tp.partition: tp.offset for tp in self._consumer.position(assigned) if tp.offset >= 0
        }

    def start_offsets(self, timeout_s: float = 10.0) -> dict[int, int]:
        """Where this member starts reading: the group's committed offsets (none when
        reading from the beginning)."""
        if self._from_beginning:
            return {}
        metadata = self._consumer.list_topics(self.topic, timeout=timeout_s)
        partitions = [TopicPartition(self.topic, p) for p in metadata.topics[self.topic].partitions]
        committed = self._consumer.committed(partitions, timeout=timeout_s)
        return {tp.partition: tp.offset for tp in committed if tp.offset >= 0}

    def close(self) -> None:
        self._consumer.close()


def broker_reachable(bootstrap: str, timeout_s: float) -> bool:
    """One metadata request; False when the broker does not answer in time."""
    try:
        _admin(bootstrap, timeout_s).list_topics(timeout=timeout_s)
        return True
    except KafkaException:
        return False
