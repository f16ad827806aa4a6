"""A flood of forged records against a real PostgreSQL and Kafka-protocol broker: each is
stored as invalid cut to CONSUMER_INVALID_RECORD_MAX_BYTES, with its full length and the
SHA-256 of its full value, so the table grows by a small fixed amount per record."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from django.db import connection

from commitlog.conf import CommitLogSettings
from commitlog.kafka import OutgoingRecord
from commitlog.models import InvalidRecord
from tests.support.flow import consume_to_end, produce_straight

pytestmark = pytest.mark.django_db(transaction=True)

RECORDS = 20
VALUE_BYTES = 900_000
BOUND = 4096


def table_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('commitlog_invalidrecord')")
        return int(cursor.fetchone()[0])


def stored_bytes() -> list[tuple[int, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT octet_length(key), octet_length(value), octet_length(headers)"
            " FROM commitlog_invalidrecord ORDER BY id"
        )
        return [tuple(row) for row in cursor.fetchall()]


def test_a_flood_of_large_forged_records_grows_the_table_by_a_bounded_amount(
    commitlog: CommitLogSettings, settings: Any
) -> None:
    settings.COMMITLOG_SIGNING_KEYS = ("k" * 40,)
    forged = [
        OutgoingRecord(
            f"ingest:forged-{i}-".encode() + b"k" * 20_000,
            os.urandom(VALUE_BYTES),  # incompressible, as an attacker would send
            [("x-forged", b"h" * 20_000)],
        )
        for i in range(RECORDS)
    ]
    before = table_bytes()
    produce_straight(commitlog, forged)

    totals = consume_to_end(commitlog)

    assert totals.invalid == RECORDS
    assert all(k <= BOUND and v <= BOUND and h <= BOUND for k, v, h in stored_bytes())
    rows = {bytes(row.key): row for row in InvalidRecord.objects.all()}
    assert len(rows) == RECORDS
    for record in forged:
        row = rows[record.key[:BOUND]]
        assert row.value_length == VALUE_BYTES
        assert row.value_sha256 == hashlib.sha256(record.value).hexdigest()
        assert bytes(row.value) == record.value[:BOUND]
        assert row.key_length == len(record.key)
        assert bytes(row.key) == record.key[:BOUND]
        assert row.headers.startswith("x-forged: b'hhh")
        assert row.error == "record is not signed"
    # Unbounded, the rows held 18 MB; bounded, some 12 KB each at most.
    assert table_bytes() - before < RECORDS * 3 * BOUND + 256 * 1024


def test_a_smaller_bound_is_the_one_kept(commitlog: CommitLogSettings, settings: Any) -> None:
    settings.CONSUMER_INVALID_RECORD_MAX_BYTES = 100
    value = b"{not json" * 1000
    produce_straight(commitlog, [OutgoingRecord(b"ingest:x", value)])

    assert consume_to_end(commitlog).invalid == 1
    row = InvalidRecord.objects.get()
    assert (bytes(row.value), row.value_length) == (value[:100], len(value))
    assert row.value_sha256 == hashlib.sha256(value).hexdigest()
    assert (bytes(row.key), row.key_length) == (b"ingest:x", 8)


def test_the_admin_page_says_what_was_cut(commitlog: CommitLogSettings, admin_client: Any) -> None:
    value = b"{not json" * 1000
    produce_straight(commitlog, [OutgoingRecord(b"ingest:x", value)])
    assert consume_to_end(commitlog).invalid == 1

    row = InvalidRecord.objects.get()
    page = admin_client.get(f"/admin/commitlog/invalidrecord/{row.pk}/change/")
    assert page.status_code == 200
    digest = hashlib.sha256(value).hexdigest()
    assert f"truncated: {BOUND} of {len(value)} bytes, sha256 {digest}" in page.content.decode()
    assert "whole: 8 bytes" in page.content.decode()  # the key
