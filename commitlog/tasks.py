"""Thin Celery task around the relay; all logic lives in commitlog.relay.run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.signals import task_postrun, task_prerun, worker_process_shutdown
from django.db import close_old_connections, connection

from commitlog.conf import commitlog_settings
from commitlog.outbox.nudge import RELAY_TASK, relay_run_starting
from commitlog.relay.run import relay_outbox
from commitlog.relay.writer import process_writer
from commitlog.telemetry.progress import relay_progress_save
from commitlog.upkeep.prune import commitlog_prune
from commitlog.upkeep.reconcile import outbox_republish_unread

RECONCILE_TASK = "commitlog.reconcile_outbox"
PRUNE_TASK = "commitlog.prune_commitlog"


@shared_task(name=RELAY_TASK, ignore_result=True, acks_late=False)
def relay_outbox_task() -> dict[str, Any]:
    relay_run_starting()  # before the first claim, so a commit after it gets a nudge
    run = relay_outbox(writers=process_writer)
    if run.published or run.failed:
        relay_progress_save(
            published=run.published, failed=run.failed, dead=run.dead, durations=run.durations
        )
    return {
        "skipped": run.skipped,
        "published": run.published,
        "failed": run.failed,
        "dead": run.dead,
    }


@shared_task(name=RECONCILE_TASK, ignore_result=True)
def reconcile_outbox_task() -> int:
    result = outbox_republish_unread(
        older_than=timedelta(seconds=commitlog_settings().reconcile_after_seconds),
        consumer_fresh_within=timedelta(
            seconds=commitlog_settings().reconcile_consumer_fresh_seconds
        ),
    )
    return result.republished


@shared_task(name=PRUNE_TASK, ignore_result=True)
def prune_commitlog_task() -> dict[str, int]:
    run = commitlog_prune(budget_s=commitlog_settings().commitlog_prune_budget_seconds)
    return run.deleted


@worker_process_shutdown.connect
def _close_writer(**kwargs: Any) -> None:
    process_writer.close()


@task_prerun.connect
@task_postrun.connect
def _check_connections(**kwargs: Any) -> None:
    # Celery's own fixup closes the database connection around every task, unless
    # CELERY_DB_REUSE_MAX is set (the project's settings set it): a new connection per relay run
    # was a third of a nudged run's time. Instead, as Django does around a request,
    # connections past CONN_MAX_AGE or with errors are closed, and one the server dropped
    # is replaced at the task's first statement (the project's config.db_retry, armed on
    # task_prerun). Inside a transaction (a task run eagerly by a caller) the caller's
    # connection is left alone.
    if not connection.in_atomic_block:
        close_old_connections()
