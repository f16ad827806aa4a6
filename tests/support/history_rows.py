"""Rows of history made by the database itself (generate_series), for the admin's
cost tests: submissions, batches, outbox rows and dedup marks, `i` seconds apart from
`start`, all recorded, published, read back and not rebuilt, with no error."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

_STATEMENTS = (
    """INSERT INTO controlplane_strategysubmission (
        strategy_id, dag_hash, owner_scope, dag, node_ids_crc32, insert_sentinel, world_ids,
        world_id, execution_domain, compute_context, downgraded, downgrade_reason, status,
        submitted_at, commitlog_sha256)
    SELECT md5('seeded' || i)::uuid, encode(sha256(('dag' || i)::bytea), 'hex'), '',
        '{}'::jsonb, 0, false, ARRAY['world-a'], 'world-a', 'live', '{}'::jsonb, false, '',
        'recorded', %(start)s + i * interval '1 second', ''
    FROM generate_series(1, %(rows)s) AS i""",
    """INSERT INTO controlplane_rebalancebatch (
        batch_id, world_id, scope, mode, shared_account, orders, total_orders,
        reduce_only_orders, reduce_only_ratio, status, submitted_at, commitlog_sha256)
    SELECT 'world-a:' || md5('seeded' || i), 'world-a', 'per_world', '', false, '[]'::jsonb,
        1, 0, 0.0, 'recorded', %(start)s + i * interval '1 second', ''
    FROM generate_series(1, %(rows)s) AS i""",
    """INSERT INTO commitlog_outboxevent (
        event, aggregate_id, key, value, state, attempts, next_attempt_at, last_error,
        created_at, published_at, published_partition, published_offset)
    SELECT 'gateway.ingest', 'seeded' || i, 'seeded:' || i, '\\x7b7d'::bytea, 'published', 0,
        %(start)s + i * interval '1 second', '', %(start)s + i * interval '1 second',
        %(start)s + i * interval '1 second', 0, i
    FROM generate_series(1, %(rows)s) AS i""",
    """INSERT INTO commitlog_consumedrecord (
        key, event, record_id, value_sha256, topic, partition, "offset", rebuilt, consumed_at)
    SELECT 'seeded:' || i, 'gateway.ingest', 'seeded' || i, '', 'seeded', 0, i, false,
        %(start)s + i * interval '1 second'
    FROM generate_series(1, %(rows)s) AS i""",
)
TABLES = (
    "controlplane_strategysubmission",
    "controlplane_rebalancebatch",
    "commitlog_outboxevent",
    "commitlog_consumedrecord",
)


def seed_history_rows(rows: int, start: datetime) -> None:
    """`rows` rows in each history table, then ANALYZE, as autovacuum would have by then."""
    with connection.cursor() as cursor:
        for statement in _STATEMENTS:
            cursor.execute(statement, {"rows": rows, "start": start})
        for table in TABLES:
            cursor.execute(f"ANALYZE {table}")
