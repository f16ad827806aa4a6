"""The relay nudge: never skipped, sent at once, and not sent again while one is queued
(a Redis broker); with another broker, one per commit.

The queued-nudge mark is tested against a real Redis (the Celery broker of the test run).
"""

from __future__ import annotations

import pytest

from commitlog.outbox import nudge
from commitlog.outbox.nudge import QueuedNudgeMark
from config.celery import app as celery_app


def test_with_another_broker_every_commit_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[object] = []
    monkeypatch.setattr(celery_app.conf, "broker_url", "amqp://guest@127.0.0.1:1//")
    monkeypatch.setattr(nudge, "_send_nudge", lambda mark=None: sent.append(mark))
    for _ in range(3):
        nudge._nudge_after_commit()
    assert sent == [None, None, None]  # no mark to share: one nudge per commit


def test_an_unreachable_redis_leaves_the_mark_open() -> None:
    mark = QueuedNudgeMark("redis://127.0.0.1:1/0", "unused", ttl_s=1.0)
    assert mark.try_set()
    assert mark.try_set()
    mark.clear()  # logged, not raised
