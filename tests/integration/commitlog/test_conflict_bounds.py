"""A record in conflict (its key applied before with other content) against a real
PostgreSQL and Kafka-protocol broker: stored with its value cut to
CONSUMER_INVALID_RECORD_MAX_BYTES, as an invalid record is, with the whole value's length
and SHA-256, so conflicting records grow the table by a bounded amount each."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

import pytest
from django.db import connection

from commitlog.conf import CommitLogSettings
from commitlog.kafka import OutgoingRecord
from commitlog.models import OutboxEvent, RecordConflict
from tests.support.flow import consume_to_end, produce_straight, relay_all, submit_strategies

pytestmark = pytest.mark.django_db(transaction=True)

PAD_BYTES = 600_000
BOUND = 4096


def padded(value: bytes) -> bytes:
    """The same record with a large, incompressible `meta` entry: it still decodes and
    parses, so under the applied key it is a conflict, not an invalid record."""
    event, timestamp_ms, record_id, payload = json.loads(value)
    pad = base64.b64encode(os.urandom(PAD_BYTES)).decode()  # as an attacker would send
    payload["meta"] = {**payload.get("meta", {}), "pad": pad}
    return json.dumps([event, timestamp_ms, record_id, payload]).encode()


def stored_value_bytes() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT octet_length(value) FROM commitlog_recordconflict ORDER BY id")
        return [int(row[0]) for row in cursor.fetchall()]


def test_a_large_conflicting_record_is_stored_cut_with_its_length_and_digest(
    commitlog: CommitLogSettings, admin_client: Any
) -> None:
    submit_strategies(1)
    relay_all()
    assert consume_to_end(commitlog).applied == 1
    (row,) = OutboxEvent.objects.all()
    large = padded(bytes(row.value))
    assert len(large) > PAD_BYTES

    produce_straight(commitlog, [OutgoingRecord(row.key.encode(), large)])
    totals = consume_to_end(commitlog)

    assert (totals.applied, totals.invalid, totals.conflicts) == (0, 0, 1)
    assert stored_value_bytes() == [BOUND]
    conflict = RecordConflict.objects.get()
    assert conflict.key == row.key
    assert conflict.reason == "key already applied with different content"
    assert bytes(conflict.value) == large[:BOUND]
    assert conflict.value_length == len(large)
    assert conflict.value_sha256 == hashlib.sha256(large).hexdigest()

    page = admin_client.get(f"/admin/commitlog/recordconflict/{conflict.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"truncated: {BOUND} of {len(large)} bytes, sha256 {conflict.value_sha256}" in text
    assert f"not decoded, truncated: {BOUND} of {len(large)} bytes" in text


def test_a_smaller_bound_is_the_one_kept(commitlog: CommitLogSettings, settings: Any) -> None:
    settings.CONSUMER_INVALID_RECORD_MAX_BYTES = 100
    submit_strategies(1)
    relay_all()
    consume_to_end(commitlog)
    (row,) = OutboxEvent.objects.all()
    other = bytes(row.value).replace(b'"execution_domain":"live"', b'"execution_domain":"dryrun"')
    assert other != bytes(row.value)

    produce_straight(commitlog, [OutgoingRecord(row.key.encode(), other)])
    assert consume_to_end(commitlog).conflicts == 1

    conflict = RecordConflict.objects.get()
    assert (bytes(conflict.value), conflict.value_length) == (other[:100], len(other))
    assert conflict.value_sha256 == hashlib.sha256(other).hexdigest()
