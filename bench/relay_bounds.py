"""The relay section's rounds: one drain's rows, time and CPU, the bounds beside it, the
writer of the database-only bound, and the section's two tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.harness import fmt_rate, rate


@dataclass(frozen=True)
class Drain:
    """One timed drain: rows, seconds, and the CPU seconds of each process it used."""

    rows: int
    seconds: float
    process_cpu_s: float  # this process: the relay's threads, or the bound's producer
    broker_cpu_s: float
    postgres_cpu_s: float

    @property
    def rate(self) -> float:
        return rate(self.rows, self.seconds)

    def per_row_us(self, cpu_s: float) -> str:
        return f"{cpu_s * 1e6 / self.rows:,.0f}" if self.rows else "-"


@dataclass(frozen=True)
class Round:
    batch_size: int
    relay: Drain
    kafka: Drain  # the Kafka-only bound
    database: Drain  # the database-only bound

    @property
    def limit(self) -> float:
        """The pipelined limit: the relay can go no faster than its slower side."""
        return min(self.kafka.rate, self.database.rate)


class _AnsweringWriter:
    """Positions at once and no broker: what is left is the relay's database side."""

    def __init__(self) -> None:
        self._sent = 0

    def publish(self, records: list[Any]) -> list[Any]:
        from commitlog.kafka import Position

        first, self._sent = self._sent, self._sent + len(records)
        return [Position(n % 3, n // 3) for n in range(first, self._sent)]


class AnsweringWriters:
    def __init__(self) -> None:
        self._writer = _AnsweringWriter()

    def get(self) -> _AnsweringWriter:
        return self._writer

    def discard(self) -> None:
        pass

    def close(self) -> None:
        pass


def rate_rows(rounds: list[Round], sync_rate: float) -> list[list[str]]:
    return [
        [
            str(r.batch_size),
            fmt_rate(r.relay.rate),
            fmt_rate(r.kafka.rate),
            fmt_rate(r.database.rate),
            f"{r.relay.rate / r.kafka.rate:.2f}",
            f"{r.relay.rate / r.database.rate:.2f}",
            f"{r.relay.rate / r.limit:.2f}",
            f"{r.relay.rate / sync_rate:.0f}x" if sync_rate else "-",
        ]
        for r in rounds
    ]


def cpu_rows(rounds: list[Round]) -> list[list[str]]:
    rows = []
    for r in rounds:
        for name, drain in (("relay", r.relay), ("Kafka only", r.kafka), ("DB only", r.database)):
            total = drain.process_cpu_s + drain.broker_cpu_s + drain.postgres_cpu_s
            rows.append(
                [
                    str(r.batch_size),
                    name,
                    drain.per_row_us(drain.process_cpu_s),
                    drain.per_row_us(drain.broker_cpu_s) if name != "DB only" else "-",
                    drain.per_row_us(drain.postgres_cpu_s) if name != "Kafka only" else "-",
                    drain.per_row_us(total),
                ]
            )
    return rows
