"""Signed records (COMMITLOG_SIGNING_KEY) against a real PostgreSQL and Kafka-protocol
broker: with signing on, a record produced straight to the topic without the relay's
signature is stored as invalid and changes nothing; the relay's records are applied."""

from __future__ import annotations

from typing import Any

import pytest

from commitlog.conf import CommitLogSettings
from commitlog.kafka import OutgoingRecord
from commitlog.models import ConsumedRecord, InvalidRecord, OutboxEvent
from commitlog.signing import HEADER, RecordSigner
from controlplane.models import StrategySubmission
from tests.support.flow import consume_to_end, produce_straight, relay_all, submit_strategies
from tests.support.kafka_reader import read_topic

KEY = "k" * 40
OLD_KEY = "o" * 40

pytestmark = pytest.mark.django_db(transaction=True)


def outbox_records() -> list[OutgoingRecord]:
    return [
        OutgoingRecord(row.key.encode(), bytes(row.value))
        for row in OutboxEvent.objects.order_by("id")
    ]


def statuses() -> set[str]:
    return set(StrategySubmission.objects.values_list("status", flat=True))


def test_with_signing_on_unsigned_and_badly_signed_records_are_stored_as_invalid(
    commitlog: CommitLogSettings, settings: Any
) -> None:
    settings.COMMITLOG_SIGNING_KEYS = (KEY,)
    submit_strategies(2)
    unsigned, other = outbox_records()
    forger = RecordSigner(["not-the-key" * 4])
    badly_signed = other._replace(headers=forger.headers(other.key, other.value))
    produce_straight(commitlog, [unsigned, badly_signed])

    totals = consume_to_end(commitlog)
    assert (totals.applied, totals.invalid) == (0, 2)
    errors = dict(InvalidRecord.objects.values_list("key", "error"))
    assert errors == {
        unsigned.key: "record is not signed",
        badly_signed.key: "record signature does not match",
    }
    assert ConsumedRecord.objects.count() == 0
    assert statuses() == {"accepted"}  # nothing was applied from the forged records

    relay_all()  # the relay signs: the same records now apply
    totals = consume_to_end(commitlog)
    assert (totals.applied, totals.invalid) == (2, 0)
    assert statuses() == {"recorded"}


def test_the_relay_signs_with_the_first_key_and_leaves_the_value_as_it_was(
    commitlog: CommitLogSettings, settings: Any
) -> None:
    settings.COMMITLOG_SIGNING_KEYS = (KEY, OLD_KEY)
    submit_strategies(3)
    relay_all()
    expected = {r.key: r.value for r in outbox_records()}
    found = read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)
    assert {r.key: r.value for r in found} == expected  # the bytes qmtl's consumers read
    signer = RecordSigner([KEY])
    for record in found:
        assert dict(record.headers) == dict(signer.headers(record.key, record.value))


def test_a_record_signed_with_an_older_accepted_key_is_applied(
    commitlog: CommitLogSettings, settings: Any
) -> None:
    settings.COMMITLOG_SIGNING_KEYS = (KEY, OLD_KEY)  # mid-rotation: OLD_KEY still accepted
    submit_strategies(1)
    (record,) = outbox_records()
    old = RecordSigner([OLD_KEY])
    produce_straight(commitlog, [record._replace(headers=old.headers(record.key, record.value))])
    totals = consume_to_end(commitlog)
    assert (totals.applied, totals.invalid) == (1, 0)
    assert statuses() == {"recorded"}

    settings.COMMITLOG_SIGNING_KEYS = (KEY,)  # rotation done: OLD_KEY is refused
    submit_strategies(1, prefix="after")
    fresh = outbox_records()[-1]
    produce_straight(commitlog, [fresh._replace(headers=old.headers(fresh.key, fresh.value))])
    totals = consume_to_end(commitlog)
    assert (totals.applied, totals.invalid) == (0, 1)


def test_with_signing_off_records_carry_no_header_and_unsigned_ones_apply(
    commitlog: CommitLogSettings, settings: Any
) -> None:
    assert not settings.COMMITLOG_SIGNING_KEYS  # the default: signing is off
    submit_strategies(2)
    first, second = outbox_records()
    produce_straight(commitlog, [first])
    relay_all()
    totals = consume_to_end(commitlog)
    assert (totals.applied, totals.invalid) == (2, 0)
    assert statuses() == {"recorded"}
    found = read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)
    assert {r.key for r in found} >= {first.key, second.key}
    assert all(r.headers == () for r in found)


def test_a_signature_covers_the_split_between_key_and_value() -> None:
    signer = RecordSigner([KEY])
    (header,) = signer.headers(b"ab", b"c")
    assert signer.refusal(b"ab", b"c", [header]) is None
    assert signer.refusal(b"a", b"bc", [header]) == "record signature does not match"
    assert signer.refusal(b"ab", b"c", []) == "record is not signed"
    assert header[0] == HEADER
