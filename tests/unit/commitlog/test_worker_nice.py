"""The relay's worker process lowers its own priority when RELAY_WORKER_NICE says so."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection

from django.test import override_settings

from commitlog import tasks


def _start_worker_process(nice: int, report: Connection) -> None:
    with override_settings(RELAY_WORKER_NICE=nice):
        before = os.nice(0)
        tasks._lower_priority()
        report.send(os.nice(0) - before)


def _niceness_gained(nice: int) -> int:
    # A child of its own: a niceness once raised cannot be lowered again without privilege.
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_start_worker_process, args=(nice, sender))
    child.start()
    assert receiver.poll(30), "the child process did not report"
    gained = int(receiver.recv())
    child.join(30)
    return gained


def test_a_worker_process_takes_the_configured_niceness() -> None:
    assert _niceness_gained(7) == min(7, 19 - os.nice(0))


def test_zero_leaves_the_priority_as_started() -> None:
    assert _niceness_gained(0) == 0


def test_the_signal_is_connected_to_celery_worker_start() -> None:
    from celery.signals import worker_process_init

    receivers = [ref() for _, ref in worker_process_init.receivers]
    assert tasks._lower_priority in receivers
