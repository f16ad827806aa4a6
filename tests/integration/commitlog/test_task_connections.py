"""The relay worker keeps its database connection across tasks, and replaces a dead one."""

from __future__ import annotations

import psycopg
import pytest
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import connection

from commitlog.tasks import relay_outbox_task

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _around_a_task() -> None:
    task_postrun.send(sender=relay_outbox_task, task_id="t1", task=relay_outbox_task)
    task_prerun.send(sender=relay_outbox_task, task_id="t2", task=relay_outbox_task)


def test_a_healthy_connection_is_kept_from_one_task_to_the_next() -> None:
    assert settings.CELERY_DB_REUSE_MAX  # else Celery's own fixup closes it every task
    first = _backend_pid()
    _around_a_task()
    assert _backend_pid() == first


def test_a_connection_the_server_dropped_is_replaced_before_the_next_task() -> None:
    first = _backend_pid()
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [first])
    _around_a_task()
    # The health check finds the dead connection and the query runs on a new one.
    assert _backend_pid() != first
