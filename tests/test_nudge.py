"""The relay nudge: at once when quiet, shared by commits under load, never skipped."""

from __future__ import annotations

import threading
import time

import pytest

from commitlog import nudge


def test_every_request_is_followed_by_a_send_and_bursts_share_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent_at: list[float] = []
    sent = threading.Condition()

    def record_send() -> None:
        with sent:
            sent_at.append(time.monotonic())
            sent.notify_all()

    monkeypatch.setattr(nudge, "_send_nudge", record_send)
    nudger = nudge._Nudger()
    for _ in range(199):
        nudger.request()
    before_last = time.monotonic()
    nudger.request()
    with sent:
        # The last request must get a send that began after it, however the burst went.
        assert sent.wait_for(lambda: bool(sent_at) and sent_at[-1] >= before_last, timeout=10)
    assert len(sent_at) < 200


def test_a_request_after_a_quiet_spell_is_sent_at_once_on_its_own_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    senders: list[str] = []
    monkeypatch.setattr(
        nudge, "_send_nudge", lambda: senders.append(threading.current_thread().name)
    )
    nudger = nudge._Nudger()
    nudger.request()
    assert senders == [threading.current_thread().name]
