"""The consumer-group member the consumer service reads with."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from commitlog.kafka.librdkafka import LIBRDKAFKA_LOGGER
from commitlog.records import RawRecord

logger = logging.getLogger(__name__)


class LogConsumer:
    """A consumer-group member with manual offset commits and read_committed isolation."""

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
            "logger": LIBRDKAFKA_LOGGER,
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
        """Up to `max_records`: waits at most `timeout_s` for the first, then takes what
        else has been fetched already, without waiting for more. An idle log's record is
        applied at once; a busy log's records pile up in the client while the previous
        batch is applied, so its batches still fill. (`consume` alone waits until the
        batch is full or the timeout passes, holding a light stream's records back.)"""
        first = self._consumer.poll(timeout_s)
        if first is None:
            return []
        messages = [first]
        if max_records > 1:
            messages += self._consumer.consume(num_messages=max_records - 1, timeout=0)
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
                    message.topic() or self.topic,
                    partition,
                    offset,
                    message.key(),
                    message.value(),
                    _headers(message),
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


def _headers(message: Message) -> tuple[tuple[str, str | bytes | None], ...]:
    found = message.headers()  # a list of (name, value) pairs, or None without headers
    return tuple(found) if isinstance(found, list) else ()
