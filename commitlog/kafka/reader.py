"""Reading one record at a known partition and offset, for an operator's look at the log:
a watermark query and one fetch from that offset, never a scan."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError, KafkaException
from confluent_kafka import TopicPartition as KafkaPosition

from commitlog.kafka.librdkafka import LIBRDKAFKA_LOGGER, kafka_error
from commitlog.records import RawRecord


@dataclass(frozen=True)
class FetchedRecord:
    raw: RawRecord
    timestamp: datetime | None  # the broker's record timestamp, when it has one


class FetchError(Exception):
    """No record to show, and why: `kind` is one of the class's constants."""

    UNREACHABLE = "unreachable"  # the broker did not answer in time
    PRUNED = "pruned"  # below the log's start, or compacted away
    BEYOND_END = "beyond_end"  # at or past the high watermark
    TIMEOUT = "timeout"  # the broker answered, the record did not come in time
    FAILED = "failed"  # any other error the broker or the client gave

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _consumer(bootstrap: str, timeout_s: float, client_config: Mapping[str, str] | None) -> Any:
    timeout_ms = max(int(timeout_s * 1000), 100)
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            # Required by the client; never joined: the partition is assigned, not subscribed.
            "group.id": f"commitlog-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "isolation.level": "read_committed",
            "socket.connection.setup.timeout.ms": max(timeout_ms, 1000),
            "socket.timeout.ms": max(timeout_ms, 10),
            # One fetch's worth, not the client's usual prefetch of thousands of records.
            "queued.min.messages": 1,
            "fetch.wait.max.ms": 50,
            "logger": LIBRDKAFKA_LOGGER,
            **(client_config or {}),
        }
    )


def _remaining(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


def _failure(exc: KafkaException, timeout_s: float) -> FetchError:
    error = kafka_error(exc)
    code = error.code() if error is not None else None
    text = error.str() if error is not None else str(exc)
    if code in (KafkaError._TIMED_OUT, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN):
        return FetchError(
            FetchError.UNREACHABLE, f"the broker did not answer within {timeout_s:g} s ({text})"
        )
    return FetchError(FetchError.FAILED, f"the broker refused the read: {text}")


def fetch_record(
    *,
    bootstrap: str,
    topic: str,
    partition: int,
    offset: int,
    timeout_s: float,
    client_config: Mapping[str, str] | None = None,
) -> FetchedRecord:
    """The record at `topic`/`partition`/`offset`; FetchError saying why there is none.

    Everything, connecting included, is done within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    consumer = _consumer(bootstrap, timeout_s, client_config)
    try:
        position = KafkaPosition(topic, partition, offset)
        try:
            low, high = consumer.get_watermark_offsets(position, timeout=_remaining(deadline))
        except KafkaException as exc:
            raise _failure(exc, timeout_s) from exc
        if offset < low:
            raise FetchError(
                FetchError.PRUNED, f"offset {offset} is before the log's start ({low}): pruned"
            )
        if offset >= high:
            raise FetchError(
                FetchError.BEYOND_END, f"offset {offset} is beyond the log's end ({high})"
            )
        consumer.assign([position])
        return _first_at(consumer, topic, partition, offset, deadline, timeout_s)
    finally:
        consumer.close()


def _first_at(
    consumer: Any, topic: str, partition: int, offset: int, deadline: float, timeout_s: float
) -> FetchedRecord:
    while (left := _remaining(deadline)) > 0:
        message = consumer.poll(min(left, 0.5))
        if message is None:
            continue
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                continue
            raise _failure(KafkaException(error), timeout_s)
        found = message.offset()
        if found != offset:
            # Compaction removed it (the fetch starts at the next record kept), or the
            # offset holds a transaction marker, which no consumer is shown.
            raise FetchError(
                FetchError.PRUNED,
                f"no record at offset {offset}: compacted away or a transaction marker "
                f"(the next record is at offset {found})",
            )
        kind, stamp = message.timestamp()
        headers = message.headers()
        return FetchedRecord(
            RawRecord(
                message.topic() or topic,
                partition,
                offset,
                message.key(),
                message.value(),
                tuple(headers) if isinstance(headers, list) else (),
            ),
            None
            if kind == TIMESTAMP_NOT_AVAILABLE or stamp < 0
            else datetime.fromtimestamp(stamp / 1000, tz=UTC),
        )
    raise FetchError(FetchError.TIMEOUT, f"the record did not arrive within {timeout_s:g} s")
