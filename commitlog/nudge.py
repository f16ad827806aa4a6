"""Wake the relay right after a write commits; beat covers any nudge that gets lost."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def _send_nudge() -> None:
    from commitlog.tasks import relay_outbox_task  # Celery stays out of the request import path

    try:
        relay_outbox_task.apply_async(expires=settings.RELAY_NUDGE_EXPIRES_SECONDS, retry=False)
    except Exception as exc:  # a Celery broker outage must never fail a REST call
        logger.warning("event=relay_nudge_failed error=%s", exc)


def nudge_relay_on_commit() -> None:
    if settings.RELAY_NUDGE_ENABLED and settings.GATEWAY.writer_enabled:
        transaction.on_commit(_send_nudge, robust=True)
