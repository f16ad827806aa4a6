"""Properties (hypothesis) of the pure rules: the commit-log record format, execution-domain
normalization, JSON coercion (the compute context's are in test_qmtl_conformance.py); and
malformed records fed through the applier on real PostgreSQL: all stored as invalid, none
fatal, offsets advance.

The expected values are restated from the contract here (aliases), not read from the code
under test, so a change of behaviour fails a property.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from commitlog.consumer.applier import apply_batch
from commitlog.models import ConsumedRecord, InvalidRecord
from commitlog.records import CommitLogRecord, RawRecord, RecordRefused, decode_value, encode_value
from controlplane.domain.compute_context import normalize_execution_domain
from controlplane.domain.json_values import coerce_json, json_depth
from controlplane.models import RebalanceBatch
from controlplane.records import Event
from tests.conftest import examples
from tests.contract import ALIASES

FAST = settings(max_examples=examples(300), deadline=None)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=25,
)
record_ids = st.text(min_size=1)
timestamps = st.integers(min_value=0, max_value=2**63)


def records() -> st.SearchStrategy[CommitLogRecord]:
    return st.builds(
        lambda event, ts, rid, payload: CommitLogRecord(
            event, ts, rid, {**payload, "event": event.value}
        ),
        st.sampled_from(list(Event)),
        timestamps,
        record_ids,
        st.dictionaries(st.text(), json_values, max_size=6),
    )


# --- Record format -----------------------------------------------------------------------


@FAST
@given(records())
def test_records_round_trip_byte_for_byte(record: CommitLogRecord) -> None:
    value = encode_value(record)
    decoded = decode_value(value)
    assert decoded == record
    assert encode_value(decoded) == value  # a republish sends the same bytes
    assert json.loads(value.decode("utf-8")) == [
        record.event,
        record.timestamp_ms,
        record.id,
        record.payload,
    ]
    prefix = {Event.INGEST: "ingest", Event.REBALANCE: "rebalance"}[record.event]
    assert record.key == f"{prefix}:{record.id}"


@FAST
@given(records(), st.sampled_from([float("nan"), float("inf"), float("-inf")]))
def test_non_finite_numbers_are_never_encoded(record: CommitLogRecord, bad: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        encode_value(CommitLogRecord(record.event, record.timestamp_ms, record.id, {
            **record.payload, "x": bad
        }))  # fmt: skip


@settings(max_examples=examples(1000), deadline=None)
@given(st.none() | st.binary(max_size=400))
@example(b"[" * 100_000)  # too deep for the JSON parser
@example(b"\xff\xfe")
@example(b'["gateway.ingest", 1, "x", {"event": "gateway.ingest"}]')
def test_decoding_arbitrary_bytes_raises_only_invalid_record(value: bytes | None) -> None:
    try:
        record = decode_value(value)
    except RecordRefused:
        return
    assert encode_value(record)  # whatever decodes is a record that encodes again


def _well_formed(body: Any) -> bool:
    """The record format (docs/API.md), restated: [event, timestamp_ms, id, payload]."""
    if not isinstance(body, list) or len(body) != 4:
        return False
    event, timestamp, record_id, payload = body
    return (
        event in ("gateway.ingest", "gateway.rebalance")
        and type(timestamp) is int
        and timestamp >= 0
        and isinstance(record_id, str)
        and record_id != ""
        and isinstance(payload, dict)
        and payload.get("event") == event
    )


def near_miss_tuples() -> st.SearchStrategy[Any]:
    """Arrays that are often records and often miss by one element."""
    event = (
        st.sampled_from(["gateway.ingest", "gateway.rebalance", "gateway.other", ""]) | json_values
    )
    timestamp = st.integers(min_value=-5) | st.booleans() | st.floats() | st.text(max_size=3)
    record_id = st.sampled_from(["", "id-1"]) | json_values
    payload = (
        st.fixed_dictionaries(
            {"event": st.sampled_from(["gateway.ingest", "gateway.rebalance", 1])}
        )
        | json_values
    )
    shaped = st.tuples(event, timestamp, record_id, payload).map(list)
    return shaped | st.lists(json_values, max_size=6)


@settings(max_examples=examples(1000), deadline=None)
@given(json_values | near_miss_tuples())
def test_decoding_json_accepts_exactly_the_well_formed_tuples(body: Any) -> None:
    value = json.dumps(body).encode()
    if _well_formed(body):
        record = decode_value(value)
        assert [record.event, record.timestamp_ms, record.id, record.payload] == body
    else:
        with pytest.raises(RecordRefused):
            decode_value(value)


# --- Execution domain (docs/API.md) ------------------------------------------------------

# The alias words as the contract states them, restated once for the tests.
CONTRACT_ALIASES = ALIASES


def expected_domain(value: str | None) -> str | None:
    """The contract's rule: the first `/`- or `:`-separated segment that is an alias (spaces,
    `-` and `_` removed, any case) gives the domain; otherwise the value, stripped and
    lower-cased."""
    text = (value or "").strip()
    if not text:
        return None
    for segment in re.split(r"[/:]", text):
        canonical = CONTRACT_ALIASES.get(re.sub(r"[\s\-_]", "", segment).lower())
        if canonical is not None:
            return canonical
    return text.lower()


@st.composite
def styled_alias(draw: st.DrawFn) -> str:
    """An alias word in random case with spaces, dashes and underscores sprinkled in."""
    word = draw(st.sampled_from(sorted(CONTRACT_ALIASES)))
    noise = st.text(alphabet=" -_\t", max_size=2)
    out = draw(noise)
    for char in word:
        out += (char.upper() if draw(st.booleans()) else char) + draw(noise)
    return out


not_an_alias = st.from_regex(r"[a-z0-9.]{0,6}x", fullmatch=True)  # no alias ends in x
domain_texts = (
    st.text(max_size=20)
    | styled_alias()
    | st.lists(styled_alias() | not_an_alias | st.text(max_size=5), min_size=1, max_size=4).flatmap(
        lambda parts: st.sampled_from(["/", ":", " / "]).map(lambda sep: sep.join(parts))
    )
)


@settings(max_examples=examples(1000), deadline=None)
@given(domain_texts)
@example("Paper-Trading")
@example("broker:paper")
@example("  DEFAULT ")
@example("acme/LIVE")
def test_normalization_follows_the_spec(value: str) -> None:
    assert normalize_execution_domain(value) == expected_domain(value)


@FAST
@given(domain_texts | st.none())
def test_normalization_is_idempotent_and_lower_case(value: str | None) -> None:
    once = normalize_execution_domain(value)
    if once is None:
        assert (value or "").strip() == ""
        return
    assert once == once.lower()
    assert once == once.strip()
    assert normalize_execution_domain(once) == once


@FAST
@given(styled_alias(), st.sampled_from(["", "acme/", "acme:", "x/y:"]))
def test_alias_words_ignore_case_spaces_dashes_and_underscores(styled: str, prefix: str) -> None:
    word = re.sub(r"[\s\-_]", "", styled).lower()
    assert normalize_execution_domain(prefix + styled) == CONTRACT_ALIASES[word]


@FAST
@given(
    st.text(max_size=20).filter(
        lambda t: expected_domain(t) not in (None, *CONTRACT_ALIASES.values())
    )
)
def test_unknown_domains_are_kept_stripped_and_lower_cased(value: str) -> None:
    assert normalize_execution_domain(value) == value.strip().lower()


# --- JSON coercion -------------------------------------------------------------------------


class Opaque:
    def __str__(self) -> str:
        return "<opaque>"


anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included
    | st.text()
    | st.binary(max_size=5)
    | st.decimals()
    | st.datetimes(timezones=st.none() | st.just(dt.UTC))
    | st.uuids()
    | st.just(Opaque()),
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.frozensets(st.integers() | st.text(max_size=3) | st.floats(), max_size=3)
        | st.sets(st.integers() | st.text(max_size=3), max_size=3)
        | st.dictionaries(
            st.text(max_size=3) | st.integers() | st.none() | st.tuples(st.integers()),
            children,
            max_size=3,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=examples(1000), deadline=None)
@given(anything)
@example({"n": float("nan"), 1: (1, 2), None: {frozenset({1, "a"})}, "d": decimal.Decimal("1.5")})
def test_coerced_values_are_always_strict_json_and_stable(value: Any) -> None:
    coerced = coerce_json(value)
    text = json.dumps(coerced, allow_nan=False)
    assert json.loads(text) == coerced  # plain JSON: survives a round trip unchanged
    assert coerce_json(coerced) == coerced  # idempotent


@FAST
@given(json_values)
def test_plain_json_is_left_as_it_is(value: Any) -> None:
    assert coerce_json(value) == value


@FAST
@given(st.lists(st.integers() | st.text(max_size=4), max_size=8))
def test_sets_coerce_to_the_same_list_whatever_their_insertion_order(items: list[Any]) -> None:
    forwards, backwards = set(items), set(reversed(items))
    assert json.dumps(coerce_json(forwards)) == json.dumps(coerce_json(backwards))
    assert json.dumps(coerce_json(frozenset(items))) == json.dumps(coerce_json(forwards))


# --- Malformed records through the applier (real PostgreSQL) -------------------------------

TOPIC = "properties-fuzz"
BATCH_ID = "w1:" + uuid.UUID(int=1).hex
KEY = f"rebalance:{BATCH_ID}".encode()
PAYLOAD: dict[str, Any] = {
    "event": "gateway.rebalance",
    "version": 1,
    "batch_id": BATCH_ID,
    "world_id": "w1",
    "scope": "per_world",
    "orders": [{"symbol": "AAPL", "quantity": 1, "reduce_only": False}],
    "counts": {"total": 1, "reduce_only": 0},
    "reduce_only_ratio": 0.0,
    "submitted_at": "2026-01-01T00:00:00+00:00",
}
VALID = ["gateway.rebalance", 1_700_000_000_000, BATCH_ID, PAYLOAD]
REQUIRED = (
    "batch_id",
    "world_id",
    "scope",
    "orders",
    "counts",
    "reduce_only_ratio",
    "submitted_at",
)


def dumps(body: Any) -> bytes:
    return json.dumps(body).encode()


wrong_slot = st.one_of(
    st.tuples(st.just(0), st.text(max_size=12).filter(lambda e: e not in set(Event)) | json_values),
    st.tuples(
        st.just(1), st.integers(max_value=-1) | st.booleans() | st.floats() | st.text(max_size=3)
    ),
    st.tuples(st.just(2), st.just("") | json_values.filter(lambda v: not isinstance(v, str))),
    st.tuples(
        st.just(3),
        json_values.filter(lambda v: not isinstance(v, dict))
        | st.just({**PAYLOAD, "event": "gateway.ingest"})
        | st.dictionaries(st.text(), json_values, max_size=3).filter(lambda d: "event" not in d),
    ),
)


def _with_slot(slot: tuple[int, Any]) -> bytes:
    body = list(VALID)
    body[slot[0]] = slot[1]
    return dumps(body)


malformed = st.one_of(
    # random bytes, under a random key or none
    st.tuples(st.none() | st.binary(max_size=40), st.none() | st.binary(max_size=300)),
    # random JSON that is not a record
    st.tuples(st.just(KEY), json_values.filter(lambda v: not _well_formed(v)).map(dumps)),
    # the right shape with one element wrong, or one element too many or too few
    st.tuples(
        st.just(KEY), wrong_slot.map(_with_slot).filter(lambda v: not _well_formed(json.loads(v)))
    ),
    st.tuples(st.just(KEY), st.sampled_from([dumps([*VALID, None]), dumps(VALID[:3])])),
    # a valid value under a key that does not match it
    st.tuples(
        st.none()
        | st.binary(max_size=40).filter(lambda k: k != KEY)
        | st.sampled_from(
            [b"ingest:" + KEY.split(b":", 1)[1], KEY + b"x", KEY.upper(), KEY + b"\xff"]
        ),
        st.just(dumps(VALID)),
    ),
    # a well-formed tuple whose payload misses a required field
    st.sampled_from(REQUIRED).map(
        lambda name: (KEY, dumps([*VALID[:3], {k: v for k, v in PAYLOAD.items() if k != name}]))
    ),
)

offsets = itertools.count(1)


@pytest.mark.django_db
def test_the_reference_record_is_valid_under_its_key() -> None:
    """The control for the next test: its malformed records differ from this one."""
    outcome = apply_batch([RawRecord(TOPIC, 0, 0, KEY, dumps(VALID))])
    assert (outcome.applied, outcome.invalid) == (1, 0)
    assert RebalanceBatch.objects.filter(batch_id=BATCH_ID).exists()


@pytest.mark.django_db
@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(malformed, min_size=1, max_size=4))
def test_malformed_records_are_stored_as_invalid_and_never_fatal(
    batch: list[tuple[bytes | None, bytes | None]],
) -> None:
    first = next(offsets) * 10  # unique offsets per example, the test shares one transaction
    raws = [RawRecord(TOPIC, 0, first + i, key, value) for i, (key, value) in enumerate(batch)]
    marks = ConsumedRecord.objects.count()

    outcome = apply_batch(raws)

    assert (outcome.records, outcome.invalid) == (len(raws), len(raws))
    assert (outcome.applied, outcome.duplicates, outcome.conflicts) == (0, 0, 0)
    assert outcome.next_offsets == {(TOPIC, 0): first + len(raws)}
    stored = InvalidRecord.objects.filter(topic=TOPIC, offset__gte=first, offset__lt=first + 10)
    assert sorted(stored.values_list("offset", flat=True)) == [raw.offset for raw in raws]
    for row in stored:
        raw = raws[row.offset - first]
        assert row.error
        assert (bytes(row.key) if row.key is not None else None) == raw.key
        assert (bytes(row.value) if row.value is not None else None) == raw.value
    assert ConsumedRecord.objects.count() == marks
    assert not RebalanceBatch.objects.filter(batch_id=BATCH_ID).exists()


def _depth_by_definition(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth_by_definition, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth_by_definition, value), default=0)
    return 0


@FAST
@given(json_values)
def test_json_depth_is_the_nesting_depth(value: Any) -> None:
    assert json_depth(value) == _depth_by_definition(value)
