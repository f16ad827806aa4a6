"""Properties (hypothesis) of the pure rules: the commit-log record format, execution-domain
normalization, JSON coercion (the compute context's are in test_qmtl_conformance.py); and
malformed records fed through the applier on real PostgreSQL: all stored as invalid, none
fatal, offsets advance.

The expected values are restated from the contract here (aliases), not read from the code
under test, so a change of behaviour fails a property.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commitlog.consumer.applier import apply_batch
from commitlog.models import ConsumedRecord, InvalidRecord
from commitlog.records import RawRecord
from controlplane.models import RebalanceBatch
from controlplane.records import Event
from tests.support.bodies import examples
from tests.support.values import json_values, well_formed

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
    st.tuples(st.just(KEY), json_values.filter(lambda v: not well_formed(v)).map(dumps)),
    # the right shape with one element wrong, or one element too many or too few
    st.tuples(
        st.just(KEY), wrong_slot.map(_with_slot).filter(lambda v: not well_formed(json.loads(v)))
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
