"""Republishing rows the log lost: published, never read back, while the consumer is alive
and caught up. Kafka can lose records (a broker without durable storage, a topic deleted
and recreated, retention shorter than an outage); re-sending the same bytes is harmless
because the consumer drops what it has already applied."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from commitlog.conf import commitlog_settings
from commitlog.models import ConsumerPosition, UnreadRecord
from commitlog.outbox.republish import move_published_to_pending

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReconcileResult:
    republished: int
    skipped: str | None = None


def outbox_republish_unread(
    *, older_than: timedelta, consumer_fresh_within: timedelta, limit: int = 10_000
) -> ReconcileResult:
    gateway = commitlog_settings()
    positions = list(
        ConsumerPosition.objects.filter(
            group=gateway.commitlog_group, topic=gateway.commitlog_topic
        )
    )
    now = timezone.now()
    if not positions:
        return ReconcileResult(0, "no consumer position reported yet")
    # Rows nobody refreshes any more (a partition of a recreated topic, a replica gone) say
    # nothing about the present; republishing is safe anyway, at worst it adds duplicates.
    live = [p for p in positions if p.updated_at >= now - consumer_fresh_within]
    if not live:
        return ReconcileResult(0, "consumer not reporting")
    if any(p.lag > 0 for p in live):
        return ReconcileResult(0, "consumer behind")

    # The read-back backlog holds only the published rows not read back: a lookup in it
    # costs the same however long the history.
    lost = list(
        UnreadRecord.objects.filter(published_at__lt=now - older_than)
        .order_by("outbox_id")
        .values_list("outbox_id", flat=True)[:limit]
    )
    if not lost:
        return ReconcileResult(0)
    with transaction.atomic():
        moved = len(move_published_to_pending(lost, note="republished: not read back"))
    logger.warning(
        "event=outbox_republished rows=%d first_id=%d reason=published_but_not_read_back",
        moved,
        lost[0],
    )
    return ReconcileResult(moved)
