"""Sending published outbox rows to the log again, with the bytes they were written with.

Harmless by design: the consumer drops a record whose key it has applied (a duplicate),
so a republish changes no state; it puts a record the log lost, or a topic recreated
empty, back in Kafka. The reconciler republishes what was never read back; an operator
republishes the rows they select.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from commitlog.models import OutboxEvent, OutboxState, UnreadRecord
from commitlog.outbox.nudge import nudge_relay_on_commit

logger = logging.getLogger(__name__)

# Rows one operator request may republish: each is one more record in Kafka, and the
# LogEntry rows are written one per outbox row.
REPUBLISH_MAX_ROWS = 500


class TooManyToRepublish(ValueError):
    """More rows than REPUBLISH_MAX_ROWS in one request: nothing was changed."""


def move_published_to_pending(ids: Sequence[int], *, note: str) -> list[int]:
    """Published rows among `ids` back to pending, due now, inside the caller's
    transaction; returns the ids moved. The read-back backlog forgets all of `ids` (an
    entry whose row has gone would otherwise be found again on every reconciler run);
    the relay lists a row there again once it has republished it."""
    ids = list(ids)
    moved = list(
        OutboxEvent.objects.filter(id__in=ids, state=OutboxState.PUBLISHED)
        .select_for_update()
        .order_by("id")
        .values_list("id", flat=True)
    )
    UnreadRecord.objects.filter(outbox_id__in=ids).delete()
    if not moved:
        return []
    OutboxEvent.objects.filter(id__in=moved).update(
        state=OutboxState.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=note
    )
    nudge_relay_on_commit()
    return moved


def outbox_republish(*, ids: Sequence[int], actor: AbstractBaseUser | None) -> list[int]:
    """An operator's republish of the published rows among `ids`; returns the ids moved.

    Rows in another state are left as they are (a pending row is on its way, a dead one
    is requeued instead). Each moved row gets an admin history entry naming `actor`, in
    the same transaction, and one log line names them all.
    """
    unique = sorted(set(ids))
    if len(unique) > REPUBLISH_MAX_ROWS:
        raise TooManyToRepublish(
            f"more than {REPUBLISH_MAX_ROWS} rows selected: republish at most "
            f"{REPUBLISH_MAX_ROWS} at a time (nothing was changed)"
        )
    with transaction.atomic():
        moved = move_published_to_pending(unique, note="republished by an operator")
        if moved and actor is not None:
            LogEntry.objects.log_actions(
                user_id=actor.pk,
                queryset=OutboxEvent.objects.filter(id__in=moved),
                action_flag=CHANGE,
                change_message="Republished.",
            )
    if moved:
        logger.warning(
            "event=outbox_republished rows=%d first_id=%d reason=operator actor=%s ids=%s",
            len(moved),
            moved[0],
            actor.get_username() if actor is not None else "-",
            ",".join(map(str, moved[:50])),
        )
    return moved
