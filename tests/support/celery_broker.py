"""The Celery app of the project pointed at another broker for one test (a refused port,
a fault-proxy link), with its cached connection pools dropped on the way in and out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from config.celery import app as celery_app


def _drop_pools() -> None:
    # Celery builds both lazily from the broker URL of the time, and keeps them.
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def celery_broker_at(url: str) -> Iterator[None]:
    saved = celery_app.conf.broker_url
    celery_app.conf.update(broker_url=url)
    _drop_pools()
    try:
        yield
    finally:
        celery_app.conf.update(broker_url=saved)
        _drop_pools()
