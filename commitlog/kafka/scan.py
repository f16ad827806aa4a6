"""Reading a topic's partitions from given offsets up to the high watermarks seen at the
start, with read_committed isolation, outside any consumer group: for the audit, which
reads what the log held when it began and commits no offset."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from commitlog.kafka.librdkafka import LIBRDKAFKA_LOGGER
from commitlog.records import RawRecord


class ScanError(Exception):
    """The scan could not go on: the broker away, or a partition that stopped moving."""


class TopicScan:
    def __init__(
        self,
        *,
        bootstrap: str,
        topic: str,
        timeout_s: float = 10.0,
        client_config: Mapping[str, str] | None = None,
    ) -> None:
        self.topic = topic
        self.timeout_s = timeout_s
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                # Required by the client; never joined: partitions are assigned.
                "group.id": f"commitlog-audit-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "isolation.level": "read_committed",
                "socket.connection.setup.timeout.ms": int(timeout_s * 1000),
                "logger": LIBRDKAFKA_LOGGER,
                **(client_config or {}),
            }
        )

    def _call(self, what: str, call: Any) -> Any:
        try:
            return call()
        except KafkaException as exc:
            raise ScanError(f"{what}: {exc}") from exc

    def partitions(self) -> list[int]:
        metadata = self._call(
            "listing the topic", lambda: self._consumer.list_topics(self.topic, self.timeout_s)
        )
        found = metadata.topics.get(self.topic)
        if found is None or found.error is not None:
            raise ScanError(f"no topic {self.topic}: {found.error if found else 'unknown'}")
        return sorted(found.partitions)

    def watermarks(self, partitions: list[int]) -> dict[int, tuple[int, int]]:
        """(log start, high watermark) of each partition, asked of the broker now."""
        return {
            p: self._call(
                f"partition {p}'s watermarks",
                lambda p=p: self._consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), timeout=self.timeout_s
                ),
            )
            for p in partitions
        }

    def offsets_at(self, partitions: list[int], timestamp_ms: int) -> dict[int, int]:
        """Each partition's first offset whose record is at or after `timestamp_ms`;
        -1 where no record is that recent."""
        asked = [TopicPartition(self.topic, p, timestamp_ms) for p in partitions]
        found = self._call(
            "offsets by time",
            lambda: self._consumer.offsets_for_times(asked, timeout=self.timeout_s),
        )
        return {tp.partition: tp.offset for tp in found}

    def read(
        self,
        starts: dict[int, int],
        ends: dict[int, int],
        batch_size: int,
        not_before_ms: int = 0,
    ) -> Iterator[tuple[list[RawRecord], dict[int, int]]]:
        """Batches of records from `starts` until each partition reaches `ends`, each with
        the next offset of every partition; records stamped before `not_before_ms` are
        left out (for a broker that answers offsets by time with the log's start).
        ScanError when no partition moves for `timeout_s` (an open transaction holds
        read_committed back)."""
        todo = {p: s for p, s in starts.items() if s < ends[p]}
        if not todo:
            return
        self._consumer.assign([TopicPartition(self.topic, p, s) for p, s in todo.items()])
        positions = dict(todo)
        moved_at = time.monotonic()
        while positions:
            records: list[RawRecord] = []
            for message in self._consumer.consume(num_messages=batch_size, timeout=0.5):
                error = message.error()
                if error is not None:
                    if error.fatal():
                        raise ScanError(error.str())
                    continue  # passing ones (end of partition, a broker reconnecting)
                partition, offset = message.partition(), message.offset()
                if partition not in positions or offset is None or offset >= ends[partition]:
                    continue  # written after the scan began
                if not_before_ms and message.timestamp()[1] < not_before_ms:
                    continue
                headers = message.headers()
                records.append(
                    RawRecord(
                        self.topic,
                        partition,
                        offset,
                        message.key(),
                        message.value(),
                        tuple(headers) if isinstance(headers, list) else (),
                    )
                )
            now_at = self._next_offsets(list(positions))
            if records or any(now_at.get(p, -1) > o for p, o in positions.items()):
                moved_at = time.monotonic()
            positions.update({p: o for p, o in now_at.items() if o > positions[p]})
            done = [p for p, o in positions.items() if o >= ends[p]]
            yield records, dict(positions)
            for p in done:
                del positions[p]
            if done:
                self._consumer.incremental_unassign([TopicPartition(self.topic, p) for p in done])
            if positions and time.monotonic() - moved_at > self.timeout_s:
                stuck = ", ".join(f"{p} at {o} of {ends[p]}" for p, o in positions.items())
                raise ScanError(f"no progress for {self.timeout_s:g} s: partition {stuck}")

    def _next_offsets(self, partitions: list[int]) -> dict[int, int]:
        # The client's position: past transaction markers, unlike the last record + 1.
        asked = [TopicPartition(self.topic, p) for p in partitions]
        found = self._call("positions", lambda: self._consumer.position(asked))
        return {tp.partition: tp.offset for tp in found if tp.offset >= 0}

    def close(self) -> None:
        self._consumer.close()
