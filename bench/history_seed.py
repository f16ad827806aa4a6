"""History rows for the history benchmark, made by the server itself (generate_series),
not the ORM: recorded submissions, their outbox rows published and read back, and their
dedup marks, and recorded rebalance batches with their Idempotency-Keys, as a control
plane that has run for a long time holds them.

Row `i` of the history is dated `i` times `SPACING` after its first row: with the default
retention window the first PRUNABLE rows are past it, the later ones inside it, as on a
system whose window holds millions of rows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

SPACING = timedelta(milliseconds=100)  # 10 submissions a second
PRUNABLE = 1_000_000
RETENTION = timedelta(days=7)  # COMMITLOG_RETENTION_DAYS's default
AGE_OF_FIRST = RETENTION + PRUNABLE * SPACING  # a few more go past it while the run lasts
CHUNK = 250_000

# Strategy ids as the service makes them (controlplane.domain.strategy_ids: time-ordered,
# of the row's time), or random ones (uuid4-like), to measure the history's cost with either.
STRATEGY_IDS = {
    "time-ordered": (
        "(lpad(to_hex((extract(epoch FROM %(start)s + i * %(spacing)s) * 1000)::bigint), 12, '0')"
        " || '7' || substr(md5('history' || i), 1, 3) || '8' || substr(md5('history' || i), 4, 15)"
        ")::uuid"
    ),
    "random": "md5('history' || i)::uuid",
}
# One statement per table over the same range of `i`, so the three stay consistent: the
# strategy id, the record key and the digest are functions of `i` alone.
_SUBMISSIONS = """
    INSERT INTO controlplane_strategysubmission (
        strategy_id, dag_hash, dag, node_ids_crc32, insert_sentinel, world_ids, world_id,
        execution_domain, compute_context, downgraded, downgrade_reason, meta, status,
        submitted_at, published_at, recorded_at, commitlog_partition, commitlog_offset,
        commitlog_sha256)
    SELECT STRATEGY_ID, encode(sha256(('dag' || i)::bytea), 'hex'),
        jsonb_build_object('nodes', jsonb_build_array(jsonb_build_object(
            'node_id', 'h' || i || '-n0', 'node_type', 'Indicator', 'period', 5))),
        i %% 4294967296, true, ARRAY['world-a', 'world-b'], 'world-a', 'live',
        '{"world_id": "world-a", "execution_domain": "live"}'::jsonb, false, '',
        '{"execution_domain": "live", "owner": "history"}'::jsonb, 'recorded',
        %(start)s + i * %(spacing)s, %(start)s + i * %(spacing)s,
        %(start)s + i * %(spacing)s, i %% 3, i / 3,
        encode(sha256(('value' || i)::bytea), 'hex')
    FROM generate_series(%(low)s, %(high)s) AS i
"""
_OUTBOX = """
    INSERT INTO commitlog_outboxevent (
        event, aggregate_id, key, value, state, attempts, next_attempt_at, last_error,
        created_at, published_at, published_partition, published_offset)
    SELECT 'gateway.ingest', STRATEGY_ID::text,
        'ingest:' || STRATEGY_ID::text,
        convert_to(repeat('{"history": ' || i || '} ', 40), 'UTF8'), 'published', 0,
        %(start)s + i * %(spacing)s, '', %(start)s + i * %(spacing)s,
        %(start)s + i * %(spacing)s, i %% 3, i / 3
    FROM generate_series(%(low)s, %(high)s) AS i
"""
_MARKS = """
    INSERT INTO commitlog_consumedrecord (
        key, event, record_id, value_sha256, topic, partition, "offset", rebuilt, consumed_at)
    SELECT 'ingest:' || STRATEGY_ID::text, 'gateway.ingest',
        STRATEGY_ID::text, encode(sha256(('value' || i)::bytea), 'hex'),
        'history', i %% 3, i / 3, false, %(start)s + i * %(spacing)s
    FROM generate_series(%(low)s, %(high)s) AS i
"""

# Batches and the keys they were sent with: for the batch pages and the key search.
_BATCHES = """
    INSERT INTO controlplane_rebalancebatch (
        batch_id, world_id, scope, mode, shared_account, orders, total_orders,
        reduce_only_orders, reduce_only_ratio, status, submitted_at, published_at,
        recorded_at, commitlog_partition, commitlog_offset, commitlog_sha256)
    SELECT 'world-a:' || md5('batch' || i), 'world-a', 'per_world', '', false,
        '[{"symbol": "A", "quantity": 1}]'::jsonb, 1, 0, 0.0, 'recorded',
        %(start)s + i * %(spacing)s, %(start)s + i * %(spacing)s,
        %(start)s + i * %(spacing)s, i %% 3, i / 3,
        encode(sha256(('batch' || i)::bytea), 'hex')
    FROM generate_series(%(low)s, %(high)s) AS i
"""
_KEYS = """
    INSERT INTO controlplane_idempotencykey (
        credential_id, key, request_sha256, batch_ids, created_at)
    SELECT NULL, 'history-key-' || i, encode(sha256(('request' || i)::bytea), 'hex'),
        ARRAY['world-a:' || md5('batch' || i)], %(start)s + i * %(spacing)s
    FROM generate_series(%(low)s, %(high)s) AS i
"""


def _seed_table(statement: str, first: int, count: int, on_chunk: Any) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    start = timezone.now() - AGE_OF_FIRST
    try:
        for low in range(first, first + count, CHUNK):
            high = min(first + count, low + CHUNK) - 1
            params: dict[str, Any] = {"start": start, "spacing": SPACING, "low": low, "high": high}
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, params)
            if on_chunk is not None:
                on_chunk(high + 1)
    finally:
        connection.close()  # this thread's own connection


def seed_history(
    first: int, count: int, *, ids: str = "time-ordered", on_chunk: Any = None
) -> None:
    """Rows first .. first + count - 1 of the history, each table on a connection of its
    own (the tables are independent), in chunks of one transaction each; `ids` is a key
    of STRATEGY_IDS."""
    from concurrent.futures import ThreadPoolExecutor

    expression = STRATEGY_IDS[ids]
    tables = (_SUBMISSIONS, _OUTBOX, _MARKS, _BATCHES, _KEYS)
    statements = tuple(s.replace("STRATEGY_ID", expression) for s in tables)
    with ThreadPoolExecutor(max_workers=len(statements)) as pool:
        done = [
            pool.submit(_seed_table, s, first, count, on_chunk if n == 0 else None)
            for n, s in enumerate(statements)
        ]
        for future in done:
            future.result()


def settle() -> None:
    """What autovacuum would have done by then (visibility maps and statistics current),
    and a checkpoint, so that writing the seeded pages out does not overlap the timings."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "controlplane_strategysubmission",
            "commitlog_outboxevent",
            "commitlog_consumedrecord",
            "commitlog_unreadrecord",
            "controlplane_rebalancebatch",
            "controlplane_idempotencykey",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("CHECKPOINT")
