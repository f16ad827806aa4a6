"""A process that exits right after its commit still sends that commit's relay nudge:
the sender's thread is waited for at exit (commitlog.outbox.nudge_sender)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[3]

# The child asks for a nudge and returns at once; its broker answers slowly (a pause
# before each send), so without the wait at exit the interpreter is gone first.
CHILD = textwrap.dedent(
    """
    import sys, time
    import django
    django.setup()
    from config.celery import app
    app.conf.update(broker_url=sys.argv[1], task_default_queue=sys.argv[2])
    from commitlog.outbox import nudge
    send = nudge.sender._send
    def slow_send():
        time.sleep(0.5)
        send()
    nudge.sender._send = slow_send
    nudge.sender.request()
    """
)


def test_a_process_exiting_after_its_commit_still_sends_the_nudge(
    broker: redis.Redis, celery_broker_url: str, celery_queue: str
) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PROFILE": "dev"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, celery_broker_url, celery_queue],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # The child has exited: whatever it sent is in the queue now.
    assert broker.llen(celery_queue) == 1
