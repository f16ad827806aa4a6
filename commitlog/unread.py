"""The read-back backlog (UnreadRecord): outbox rows published whose record the consumer
has not read back yet. The relay adds to it and the consumer takes from it, each inside
the transaction that also changes the submission or batch, after locking that row: so
whichever of the two commits second sees what the first did."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection


def unread_add(rows: Sequence[tuple[int, str]], *, at: datetime) -> None:
    """(outbox id, key) of rows just marked published whose aggregate is not recorded."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO commitlog_unreadrecord (outbox_id, key, published_at)
            SELECT v.i, v.k, %s FROM unnest(%s::bigint[], %s::text[]) AS v(i, k)
            ON CONFLICT DO NOTHING
            """,
            [at, [row[0] for row in rows], [row[1] for row in rows]],
        )


def unread_remove(keys: Sequence[str]) -> None:
    """The consumer has read these keys back (applied, duplicate or conflicting alike)."""
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM commitlog_unreadrecord WHERE key = ANY(%s::text[])", [list(keys)]
        )
