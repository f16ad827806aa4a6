"""POST /strategies's fast path against the DRF path it stands in for.

The fast path may only take requests the DRF path accepts, read to the same values, and
must answer as that path answers; everything else it leaves to DRF.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import RequestFactory, override_settings
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import APIException
from rest_framework.test import APIClient

from controlplane import serializers
from controlplane.api_fastpath import SubmissionFields, plain_submission, submission_fields
from controlplane.models import StrategySubmission
from controlplane.parsers import BoundedJSONParser
from tests.conftest import examples, make_dag, submission_body
from tests.test_properties import json_values


def by_drf(raw: bytes) -> dict[str, Any] | None:
    """What the DRF path's parser and serializer make of a body; None when they refuse it."""
    try:
        data = BoundedJSONParser().parse(io.BytesIO(raw), "application/json", {})
    except APIException:
        return None
    incoming = serializers.StrategySubmitIn(data=data)
    if not incoming.is_valid():
        return None
    return dict(incoming.validated_data)


def as_fields(validated: dict[str, Any]) -> str:
    # repr tells 1 from 1.0 and 0.0 from -0.0, which == does not.
    return repr(SubmissionFields(**validated))


plausible = {
    "dag_json": st.text(max_size=8) | json_values,
    "node_ids_crc32": st.integers(min_value=-2, max_value=2**32 + 1) | json_values,
    "meta": st.dictionaries(st.text(max_size=5), json_values, max_size=3) | json_values,
    "world_ids": st.lists(st.text(max_size=4), max_size=3) | json_values,
    "context": st.dictionaries(st.text(max_size=5), json_values, max_size=3) | json_values,
    "world_id": st.none() | json_values,
    "extra": json_values,
}
REMOVED = object()
VALID = submission_body(make_dag("a", "b"), context={"execution_domain": "live"})


def changed_valid_body(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    changes = st.fixed_dictionaries({key: st.just(REMOVED) | plausible[key] for key in keys})
    return changes.map(
        lambda change: {
            key: value for key, value in {**VALID, **change}.items() if value is not REMOVED
        }
    )


# Mostly a valid body with a field or two changed or removed; else anything.
changed_valid = st.lists(st.sampled_from(list(plausible)), max_size=2, unique=True).flatmap(
    changed_valid_body
)
bodies = (
    changed_valid
    | changed_valid
    | changed_valid
    | st.lists(st.sampled_from(list(plausible)), unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({key: plausible[key] for key in keys})
    )
    | json_values
)
# JSON text a client could send that json.dumps does not write: escapes of NUL and of
# lone surrogates, NaN, numbers beyond a double, nesting past the limit.
SPOT = "__spoiler__"
spoilers = st.sampled_from(
    [f'"{SPOT}"'] * 6
    + ['"\\u0000"', '"\\ud800"', '"a\\uDC00"', "NaN", "-Infinity", "1e400", "[[[[[[1]]]]]]"]
)


@settings(max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, spoiler=spoilers, depth_limit=st.sampled_from([3, 64]))
def test_the_fast_path_takes_only_what_drf_accepts_and_reads_it_alike(
    body: Any, spoiler: str, depth_limit: int
) -> None:
    if isinstance(body, dict):
        # In meta when it is an object, so that the body keeps only known fields.
        if isinstance(body.get("meta"), dict):
            body["meta"] = {**body["meta"], "spoiled": SPOT}
        else:
            body["spoiled"] = SPOT
    raw = (
        json.dumps(body, ensure_ascii=False)
        .encode()
        .replace(f'"{SPOT}"'.encode(), spoiler.encode())
    )
    with override_settings(API_MAX_JSON_DEPTH=depth_limit):
        fast = submission_fields(raw)
        reference = by_drf(raw)
    event("fast path" if fast is not None else "left to DRF")
    event("DRF accepts" if reference is not None else "DRF refuses")
    if fast is not None:
        assert reference is not None, raw
        assert repr(fast) == as_fields(reference)


def plain_bodies() -> list[dict[str, Any]]:
    dag = make_dag("a", "b")
    return [
        submission_body(dag),
        submission_body(dag, meta=None, world_ids=None, context=None, world_id=None),
        submission_body(dag, meta={"nested": {"a": [1, 2.5, None, True]}}, context={"k": "v"}),
        {key: value for key, value in submission_body(dag).items() if key != "world_ids"},
    ]


@pytest.mark.parametrize("body", plain_bodies())
def test_what_clients_send_takes_the_fast_path_to_the_values_drf_reads(
    body: dict[str, Any],
) -> None:
    raw = json.dumps(body).encode()
    fast = submission_fields(raw)
    reference = by_drf(raw)
    assert fast is not None
    assert reference is not None
    assert repr(fast) == as_fields(reference)


# --- Over HTTP, on the real database ---------------------------------------------------


def no_serializer(*args: Any, **kwargs: Any) -> bool:
    raise AssertionError("the DRF serializer ran")


@pytest.mark.django_db
def test_a_plain_submission_is_accepted_without_drf_validating_it(
    api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serializers.StrategySubmitIn, "is_valid", no_serializer)
    response = api.post("/strategies", submission_body(), format="json")
    assert response.status_code == 202, response.content
    assert StrategySubmission.objects.filter(strategy_id=response.json()["strategy_id"]).exists()


def answer_shape(response: Any) -> tuple[int, dict[str, str], Any]:
    body = json.loads(response.content)
    for key in ("strategy_id", "sentinel_id", "node_ids_crc32", "message"):
        if key in body:
            body[key] = type(body[key]).__name__  # differ from one submission to the next
    return response.status_code, dict(response.headers), body


@pytest.mark.django_db
def test_the_fast_path_answers_as_the_drf_path_does(
    api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_body = submission_body(make_dag("f1", "f2"))
    drf_body = submission_body(make_dag("d1", "d2"))
    fast = [api.post("/strategies", fast_body, format="json") for _ in range(2)]
    monkeypatch.setattr("controlplane.api.plain_submission", lambda request: None)
    drf = [api.post("/strategies", drf_body, format="json") for _ in range(2)]
    # Accepted, then refused as a duplicate of the first.
    assert [r.status_code for r in fast] == [202, 409]
    assert [answer_shape(r) for r in fast] == [answer_shape(r) for r in drf]
    assert fast[1].json()["strategy_id"] == fast[0].json()["strategy_id"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"HTTP_AUTHORIZATION": ""}, "no credential"),
        ({"HTTP_AUTHORIZATION": "Bearer cp_unknown"}, "an unknown credential"),
        ({"HTTP_AUTHORIZATION": "Basic abc"}, "another scheme"),
        ({"HTTP_ACCEPT": "text/html"}, "an answer type DRF negotiates"),
        ({"QUERY_STRING": "format=json"}, "a query string"),
        ({"CONTENT_TYPE": "text/plain"}, "another media type"),
        ({"CONTENT_LENGTH": ""}, "no length"),
        ({"REQUEST_METHOD": "PUT"}, "another method"),
    ],
)
def test_requests_that_are_not_plain_are_left_to_drf(
    api_token: str, change: dict[str, str], why: str
) -> None:
    def submission_request() -> HttpRequest:
        return RequestFactory().post(
            "/strategies",
            json.dumps(submission_body()).encode(),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {api_token}",
        )

    assert plain_submission(submission_request()) is not None  # unchanged, it is plain
    changed = submission_request()
    changed.META.update(change)
    if "REQUEST_METHOD" in change:
        changed.method = change["REQUEST_METHOD"]
    if "CONTENT_TYPE" in change:
        changed.content_type = change["CONTENT_TYPE"]
    assert plain_submission(changed) is None, why


@pytest.mark.parametrize(
    "raw",
    [
        b'{"dag_json": "e30=", "node_ids_crc32": 0, "world_id": "w1"}',
        b'{"dag_json": "e30=", "node_ids_crc32": 0, "unknown": 1}',
        b'{"dag_json": "", "node_ids_crc32": 0}',
        b'{"dag_json": "e30=", "node_ids_crc32": "0"}',
        b'{"dag_json": "e30=", "node_ids_crc32": 0, "meta": {"a": "\\u0000"}}',
        b"[]",
        b"",
    ],
)
def test_bodies_drf_may_refuse_are_left_to_it(raw: bytes) -> None:
    assert submission_fields(raw) is None
