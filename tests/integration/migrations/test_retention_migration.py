"""The retention migrations on a database that already holds history: rows published and
read back before them are not taken for lost, and their digests are kept."""

from __future__ import annotations

import pytest
from django.db import connection

from commitlog.models import OutboxEvent, UnreadRecord
from controlplane.models import StrategySubmission
from tests.support.flow import submit_strategies
from tests.support.migrations import latest_migrations, migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("commitlog", "0004_lean_indexes"), ("controlplane", "0002_explicit_indexes_hot_status")]


def test_history_written_before_the_migrations_is_read_back_and_keeps_its_digest() -> None:
    read, unread = submit_strategies(2)
    latest = latest_migrations()
    migrate_to(BEFORE)
    try:
        with connection.cursor() as cursor:
            # As the relay and the consumer of that time left them.
            cursor.execute(
                "UPDATE commitlog_outboxevent SET state = 'published', published_at = now(), "
                "published_partition = 0, published_offset = id"
            )
            cursor.execute(
                "UPDATE controlplane_strategysubmission SET status = 'recorded' "
                "WHERE strategy_id = %s",
                [read],
            )
            cursor.execute(
                "INSERT INTO commitlog_consumedrecord (key, event, record_id, value_sha256, "
                'topic, partition, "offset", rebuilt, consumed_at) '
                "VALUES (%s, 'gateway.ingest', %s, %s, 't', 0, 1, false, now())",
                [f"ingest:{read}", read, "ab" * 32],
            )
    finally:
        migrate_to(latest)

    rows = {row.aggregate_id: row for row in OutboxEvent.objects.all()}
    backlog = set(UnreadRecord.objects.values_list("outbox_id", flat=True))
    assert backlog == {rows[unread].id}  # published, never read back: the backlog
    digests = dict(StrategySubmission.objects.values_list("strategy_id", "commitlog_sha256"))
    assert {str(k): v for k, v in digests.items()} == {read: "ab" * 32, unread: ""}
