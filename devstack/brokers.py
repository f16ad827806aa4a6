"""Which Kafka and which Celery broker a local run uses: configured, or embedded."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from devstack.kafka import EmbeddedKafka
from devstack.redis import EmbeddedRedis


@contextlib.contextmanager
def kafka_for(purpose: str, *, state_dir: Path, configured: str) -> Iterator[str]:
    """The configured bootstrap, or an embedded broker started for the run's lifetime."""
    if configured:
        print(f"[{purpose}] Kafka: {configured} (configured)", flush=True)
        yield configured
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedKafka(log_file=state_dir / "kafka.log")
    broker.start()
    print(f"[{purpose}] Kafka: embedded broker on {broker.bootstrap} (memory only)", flush=True)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
        print(f"[{purpose}] Kafka: embedded broker stopped", flush=True)


@contextlib.contextmanager
def redis_for(purpose: str, *, state_dir: Path, configured: str) -> Iterator[str]:
    """The configured CELERY_BROKER_URL (checked before: devstack.preflight), or an
    embedded Redis started for the run's lifetime."""
    if configured:
        print(f"[{purpose}] Celery broker: {configured} (configured)", flush=True)
        yield configured
        return
    server = EmbeddedRedis(state_dir)
    server.start()
    print(f"[{purpose}] Celery broker: embedded Redis on {server.url}", flush=True)
    try:
        yield server.url
    finally:
        server.stop()
