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
import json
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from commitlog.records import CommitLogRecord, RecordRefused, decode_value, encode_value
from controlplane.domain.compute_context import normalize_execution_domain
from controlplane.domain.json_bounds import json_depth
from controlplane.domain.json_values import coerce_json
from controlplane.records import Event
from tests.support.bodies import examples
from tests.support.contract import ALIASES
from tests.support.values import json_values, timestamps, well_formed

FAST = settings(max_examples=examples(300), deadline=None)

record_ids = st.text(min_size=1)


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
    if well_formed(body):
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
