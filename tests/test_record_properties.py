"""Property-based tests (hypothesis) of the record format, context normalization and JSON
coercion; and malformed records fed to the applier, all stored as invalid, none fatal."""

from __future__ import annotations

import contextlib
import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commitlog.applier import apply_batch
from commitlog.models import InvalidRecord
from commitlog.records import CommitLogRecord, Event, RawRecord, decode_value, encode_value
from commitlog.records import InvalidRecord as UndecodableRecord
from controlplane.compute_context import build_compute_context, normalize_execution_domain
from controlplane.jsonutil import coerce_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
payloads = st.dictionaries(st.text(), json_values, max_size=6)


@given(
    event=st.sampled_from(list(Event)),
    timestamp=st.integers(min_value=0, max_value=2**53),
    record_id=st.text(min_size=1),
    payload=payloads,
)
def test_every_record_round_trips(
    event: Event, timestamp: int, record_id: str, payload: dict[str, Any]
) -> None:
    record = CommitLogRecord(event, timestamp, record_id, {**payload, "event": event.value})
    value = encode_value(record)
    assert decode_value(value) == record
    assert json.loads(value)[0] == event.value


@given(st.binary(max_size=300))
def test_decoding_arbitrary_bytes_refuses_cleanly_or_decodes(value: bytes) -> None:
    with contextlib.suppress(UndecodableRecord):
        decode_value(value)


@given(json_values)
def test_decoding_arbitrary_json_refuses_cleanly_or_decodes(value: Any) -> None:
    try:
        record = decode_value(json.dumps(value).encode())
    except UndecodableRecord:
        return
    assert record.payload["event"] == record.event.value


ALIASES = ["paper", "dryrun", "backtest", "live", "shadow", "sim", "production", "offline"]


@given(st.text(max_size=30))
def test_normalization_is_idempotent_and_lower_case(value: str) -> None:
    once = normalize_execution_domain(value)
    if once is None:
        assert value.strip() == ""
        return
    assert once == once.lower()
    assert normalize_execution_domain(once) == once


@given(
    word=st.sampled_from(ALIASES),
    noise=st.lists(st.sampled_from([" ", "-", "_"]), max_size=3),
    upper=st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_aliases_ignore_case_and_separators(word: str, noise: list[str], upper: list[bool]) -> None:
    styled = "".join(c.upper() if up else c for c, up in zip(word, upper, strict=False))
    noisy = styled[:1] + "".join(noise) + styled[1:]
    assert normalize_execution_domain(noisy) == normalize_execution_domain(word)


blank_or_text = (
    st.none()
    | st.sampled_from(["", "  "])
    | st.text(alphabet=string.ascii_letters, min_size=1, max_size=8)
)
contexts = st.fixed_dictionaries(
    {},
    optional={
        "execution_domain": blank_or_text | st.sampled_from([*ALIASES, "default"]),
        "as_of": blank_or_text,
        "partition": blank_or_text,
    },
)


@given(meta=contexts, override=contexts)
def test_downgrade_rules_hold(meta: dict[str, Any], override: dict[str, Any]) -> None:
    ctx = build_compute_context(meta, override)
    payload = ctx.as_payload()
    for key in ("as_of", "partition"):
        given_override = (override.get(key) or "").strip()
        if given_override:
            assert payload[key] == given_override
    raw = (override.get("execution_domain") or "").strip() or (
        meta.get("execution_domain") or ""
    ).strip()
    domain = normalize_execution_domain(raw) if raw else None
    if domain in (None, "default"):
        assert payload["downgrade_reason"] == "decision_unavailable"
    elif domain in ("backtest", "dryrun") and payload["as_of"] is None:
        assert payload["downgrade_reason"] == "missing_as_of"
    else:
        assert "downgraded" not in payload
    assert ("downgraded" in payload) == ctx.downgraded
    if ctx.downgraded:
        assert payload["execution_domain"] == "backtest"
        assert payload["safe_mode"] is True


weird = st.recursive(
    st.none() | st.integers() | st.floats() | st.text() | st.binary(max_size=5)
    | st.tuples(st.integers()) | st.frozensets(st.integers(), max_size=3),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.integers() | st.text(), children, max_size=3),
    max_leaves=15,
)  # fmt: skip


@given(weird)
def test_coerced_values_are_always_plain_json(value: Any) -> None:
    json.dumps(coerce_json(value), allow_nan=False)


offsets = iter(range(10**9))


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.none() | st.binary(max_size=40),
    value=st.none() | st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_malformed_records_are_stored_as_invalid_and_never_fatal(
    key: bytes | None, value: bytes | None
) -> None:
    offset = next(offsets)
    outcome = apply_batch([RawRecord("fuzz", 0, offset, key, value)])
    assert outcome.next_offsets == {("fuzz", 0): offset + 1}
    assert outcome.invalid + outcome.applied + outcome.conflicts + outcome.duplicates == 1
    if outcome.invalid:
        assert InvalidRecord.objects.filter(topic="fuzz", offset=offset).exists()
