"""POST /strategies and GET /strategies/{id}/status against a real PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from commitlog.models import OutboxEvent, OutboxState
from commitlog.records import decode_value
from controlplane.models import StrategySubmission, SubmissionStatus
from tests.support.bodies import crc_of, make_dag, submission_body

pytestmark = pytest.mark.django_db


def post(api: APIClient, body: Any, **kwargs: Any) -> Any:
    return api.post("/strategies", body, format="json", **kwargs)


def assert_nothing_written() -> None:
    assert StrategySubmission.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_accepted_submission_answers_202_with_the_ack_shape(api: APIClient) -> None:
    response = post(api, submission_body(meta={"execution_domain": "live"}))
    assert response.status_code == 202, response.json()
    body = response.json()
    strategy_id = body["strategy_id"]
    assert uuid.UUID(strategy_id).version == 7  # time-ordered (controlplane.domain.strategy_ids)
    assert body == {
        "strategy_id": strategy_id,
        "sentinel_id": f"{strategy_id}-sentinel",
        "node_ids_crc32": crc_of(["a", "b", "c"]),
        "downgraded": False,
        "downgrade_reason": None,
        "safe_mode": False,
        "queue_map": {},
    }


def test_later_submissions_get_later_ids(api: APIClient) -> None:
    """Ids begin with their time: each index keyed by them grows at its right edge."""
    ids = [
        uuid.UUID(post(api, submission_body(make_dag(f"n{n}"))).json()["strategy_id"])
        for n in range(5)
    ]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5


def test_submission_and_outbox_row_hold_the_ingest_record(api: APIClient) -> None:
    dag = make_dag("n1", "n2", name="momentum")
    meta = {
        "execution_domain": "Paper Trading",
        "as_of": "2025-06-01",
        "strategy_version": " 2.1 ",
        "datasetFingerprint": "fp-1",
        7: "seven",
    }
    body = submission_body(
        dag,
        meta=meta,
        world_ids=[" w2 ", "w1", "", "w2", "   ", "w3"],
        context={"partition": "p9"},
    )
    response = post(api, body)
    assert response.status_code == 202, response.json()
    strategy_id = response.json()["strategy_id"]

    submission = StrategySubmission.objects.get()
    outbox = OutboxEvent.objects.get()
    assert str(submission.strategy_id) == strategy_id
    assert submission.status == SubmissionStatus.ACCEPTED
    assert (submission.world_id, submission.downgraded, submission.downgrade_reason) == (
        "w2",
        False,
        "",
    )
    assert submission.submitted_at == outbox.created_at == outbox.next_attempt_at
    assert outbox.state == OutboxState.PENDING
    assert outbox.key == f"ingest:{strategy_id}"
    assert outbox.aggregate_id == strategy_id

    record = decode_value(bytes(outbox.value))
    assert record.event == "gateway.ingest"
    assert record.id == strategy_id
    payload = record.payload
    submitted_at = datetime.fromisoformat(payload["submitted_at"])
    assert submitted_at.tzinfo is not None
    assert submitted_at.utcoffset() == timedelta(0)
    assert record.timestamp_ms == int(submitted_at.timestamp() * 1000)

    expected_dag = make_dag("n1", "n2", name="momentum")
    expected_dag["nodes"].append(
        {"node_type": "VersionSentinel", "node_id": f"{strategy_id}-sentinel", "version": "2.1"}
    )
    assert payload == {
        "event": "gateway.ingest",
        "version": 1,
        "strategy_id": strategy_id,
        "dag_hash": hashlib.sha256(json.dumps(dag, sort_keys=True).encode()).hexdigest(),
        "dag": expected_dag,
        "dag_base64": base64.b64encode(json.dumps(expected_dag).encode()).decode(),
        "node_ids_crc32": crc_of(["n1", "n2"]),
        "insert_sentinel": True,
        "compute_context": {
            "execution_domain": "dryrun",
            "as_of": "2025-06-01",
            "partition": "p9",
            "dataset_fingerprint": "fp-1",
            "world_id": "w2",  # the first world id, as qmtl writes it
        },
        "world_ids": ["w2", "w1", "w3"],
        "world_id": "w2",
        "meta": {**{k: v for k, v in meta.items() if k != 7}, "7": "seven"},
        "submitted_at": payload["submitted_at"],
    }
    assert submission.dag == expected_dag
    assert submission.world_ids == ["w2", "w1", "w3"]
    assert submission.execution_domain == "dryrun"


def test_plain_json_dag_is_accepted(api: APIClient) -> None:
    dag = make_dag("x")
    response = post(api, submission_body(dag, dag_json=json.dumps(dag)))
    assert response.status_code == 202, response.json()


def test_downgrade_is_reported_in_ack_and_record(api: APIClient) -> None:
    response = post(api, submission_body(meta=None))
    assert response.status_code == 202
    body = response.json()
    assert body["downgraded"] is True
    assert body["downgrade_reason"] == "decision_unavailable"
    assert body["safe_mode"] is True
    payload = decode_value(bytes(OutboxEvent.objects.get().value)).payload
    assert payload["compute_context"]["execution_domain"] == "backtest"
    assert payload["compute_context"]["downgrade_reason"] == "decision_unavailable"
    assert StrategySubmission.objects.get().downgrade_reason == "decision_unavailable"


def test_missing_as_of_downgrade_through_the_api(api: APIClient) -> None:
    response = post(api, submission_body(meta={"execution_domain": "sim"}))
    assert response.json()["downgrade_reason"] == "missing_as_of"


@override_settings(GATEWAY_INSERT_SENTINEL=False)
def test_without_sentinel_insertion_the_dag_is_stored_as_submitted(api: APIClient) -> None:
    dag = make_dag("a")
    response = post(api, submission_body(dag))
    assert response.json()["sentinel_id"] == ""
    payload = decode_value(bytes(OutboxEvent.objects.get().value)).payload
    assert payload["dag"] == dag
    assert payload["insert_sentinel"] is False


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"world_id": "w1"}, "E_WORLD_ID_DEPRECATED"),
        ({"world_id": "w1", "world_ids": []}, "E_WORLD_ID_DEPRECATED"),
        ({"world_ids": []}, "E_WORLD_IDS_REQUIRED"),
        ({"world_ids": ["", "  "]}, "E_WORLD_IDS_REQUIRED"),
        ({"world_ids": None}, "E_WORLD_IDS_REQUIRED"),
        ({"dag_json": "@@@"}, "E_INVALID_DAG"),
        ({"dag_json": json.dumps({"nodes": [{"node_id": ""}]})}, "E_INVALID_DAG"),
        ({"dag_json": json.dumps({"edges": []})}, "E_INVALID_DAG"),
        ({"node_ids_crc32": 12345}, "E_CHECKSUM_MISMATCH"),
        ({"node_ids_crc32": "123"}, "E_INVALID_REQUEST"),
        ({"node_ids_crc32": -1}, "E_INVALID_REQUEST"),
        ({"meta": ["not", "an", "object"]}, "E_INVALID_REQUEST"),
        ({"world_ids": [1, 2]}, "E_INVALID_REQUEST"),
        ({"context": {"asof": "2025-01-01"}}, "E_INVALID_CONTEXT"),
        ({"context": "live"}, "E_INVALID_REQUEST"),
    ],
)
def test_invalid_submissions_get_422_with_a_code_and_write_nothing(
    api: APIClient, overrides: dict[str, Any], code: str
) -> None:
    response = post(api, submission_body(**overrides))
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert_nothing_written()


def test_missing_fields_are_invalid_requests(api: APIClient) -> None:
    for field in ("dag_json", "node_ids_crc32"):
        body = submission_body()
        del body[field]
        response = post(api, body)
        assert response.status_code == 422
        assert response.json()["code"] == "E_INVALID_REQUEST"
        assert field in response.json()["message"]
    assert_nothing_written()


def test_body_that_is_not_json_is_400(api: APIClient) -> None:
    response = api.post("/strategies", b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "E_MALFORMED_JSON"
    assert_nothing_written()


def test_json_array_body_is_rejected(api: APIClient) -> None:
    response = api.post("/strategies", b"[1,2]", content_type="application/json")
    assert response.status_code == 422
    assert_nothing_written()


@override_settings(API_MAX_BODY_BYTES=2048)
def test_body_over_the_limit_is_413(api: APIClient) -> None:
    body = submission_body(meta={"pad": "x" * 4096})
    response = post(api, body)
    assert response.status_code == 413
    assert response.json()["code"] == "E_PAYLOAD_TOO_LARGE"
    assert_nothing_written()


def test_too_deep_json_is_rejected(api: APIClient) -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = {"d": deep}
    response = post(api, submission_body(meta=deep))
    assert response.status_code == 422
    assert response.json()["code"] == "E_JSON_TOO_DEEP"
    assert_nothing_written()


def test_same_dag_again_is_409_with_the_existing_id(api: APIClient) -> None:
    first = post(api, submission_body())
    assert first.status_code == 202
    again = post(api, submission_body(world_ids=["other"], meta={"note": "retry"}))
    assert again.status_code == 409
    assert again.json()["code"] == "E_DUPLICATE"
    assert again.json()["strategy_id"] == first.json()["strategy_id"]
    assert StrategySubmission.objects.count() == 1
    assert OutboxEvent.objects.count() == 1


def test_same_dag_in_plain_json_or_other_key_order_is_a_duplicate(api: APIClient) -> None:
    dag = {"nodes": [{"node_id": "a", "k": 1}], "name": "s"}
    assert post(api, submission_body(dag)).status_code == 202
    reordered = {"name": "s", "nodes": [{"k": 1, "node_id": "a"}]}
    response = post(api, submission_body(reordered, dag_json=json.dumps(reordered)))
    assert response.status_code == 409


def test_status_of_a_submission(api: APIClient) -> None:
    strategy_id = post(api, submission_body()).json()["strategy_id"]
    response = api.get(f"/strategies/{strategy_id}/status")
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}


@pytest.mark.parametrize("strategy_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_status_of_an_unknown_submission_is_404(api: APIClient, strategy_id: str) -> None:
    response = api.get(f"/strategies/{strategy_id}/status")
    assert response.status_code == 404
    assert response.json()["code"] == "E_NOT_FOUND"


def test_unknown_url_is_a_json_404(api: APIClient) -> None:
    response = api.get("/no/such/thing")
    assert response.status_code == 404
    assert response.json()["code"] == "E_NOT_FOUND"


def test_wrong_method_is_405(api: APIClient) -> None:
    response = api.get("/strategies")
    assert response.status_code == 405
    assert response.json()["code"] == "E_METHOD_NOT_ALLOWED"


@override_settings(COMMITLOG_MAX_RECORD_BYTES=3000)
def test_submission_whose_record_would_be_too_large_for_kafka_is_413(api: APIClient) -> None:
    dag = make_dag(*[f"node-{i}" for i in range(40)])
    response = post(api, submission_body(dag))
    assert response.status_code == 413
    assert response.json()["code"] == "E_RECORD_TOO_LARGE"
    assert_nothing_written()


@override_settings(COMMITLOG_MAX_RECORD_BYTES=600)
def test_rebalance_whose_record_would_be_too_large_is_413(api: APIClient) -> None:
    orders = [{"symbol": f"S{i}", "quantity": i} for i in range(30)]
    body = {"per_world": {"w1": [{"symbol": "A", "quantity": 1}], "w2": orders}}
    response = api.post("/rebalancing/batches", body, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "E_RECORD_TOO_LARGE"
    assert_nothing_written()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"dag_json": json.dumps({"nodes": [{"node_id": "a\u0000b"}]})}, "E_INVALID_DAG"),
        (
            {
                "dag_json": base64.b64encode(
                    json.dumps({"nodes": [{"node_id": "a\u0000b"}]}).encode()
                ).decode()
            },
            "E_INVALID_DAG",
        ),
        ({"dag_json": json.dumps({"nodes": [{"node_id": "a", "k\u0000": 1}]})}, "E_INVALID_DAG"),
        ({"meta": {"k\u0000": "key with a NUL"}}, "E_INVALID_REQUEST"),
        ({"meta": {"note": "nul \u0000 inside"}}, "E_INVALID_REQUEST"),
        ({"meta": {"execution_domain": "x" * 150}}, "E_INVALID_CONTEXT"),
    ],
)
def test_values_postgres_cannot_store_are_refused_not_500(
    api: APIClient, overrides: dict[str, Any], code: str
) -> None:
    response = post(api, submission_body(**overrides))
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert_nothing_written()


@pytest.mark.parametrize(
    "dag_text",
    [
        '{"nodes": [{"node_id": "a", "weight": NaN}]}',
        '{"nodes": [{"node_id": "a", "limits": [1, -Infinity]}]}',
        '{"nodes": [{"node_id": "a", "weight": 1e999}]}',
        '{"nodes": [{"node_id": "a", "weight": -2.5E+400}]}',
    ],
)
@pytest.mark.parametrize("encoding", ["json", "base64"])
def test_numbers_json_cannot_carry_are_refused_not_500(
    api: APIClient, dag_text: str, encoding: str
) -> None:
    # Python's parser takes these; the record encoder and jsonb would refuse them later.
    dag_json = base64.b64encode(dag_text.encode()).decode() if encoding == "base64" else dag_text
    response = post(api, submission_body(dag_json=dag_json, node_ids_crc32=crc_of(["a"])))
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "E_INVALID_DAG"
    assert "JSON numbers cannot carry" in response.json()["message"]
    assert_nothing_written()


@pytest.mark.parametrize("lists", [62, 917])
def test_a_dag_nested_deeper_than_the_body_bound_is_refused(api: APIClient, lists: int) -> None:
    # The DAG travels as a string, so the body's depth bound (64) does not reach it; 917
    # levels once parsed and then failed to encode for the record (a 500).
    dag_text = '{"nodes": [{"node_id": "a", "v": %s}]}' % ("[" * lists + "]" * lists)
    response = post(api, submission_body(dag_json=dag_text, node_ids_crc32=crc_of(["a"])))
    assert response.status_code == 422, response.json()
    assert response.json() == {
        "code": "E_INVALID_DAG",
        "message": "the DAG nests deeper than 64 levels",
    }
    assert_nothing_written()


def test_a_dag_at_the_depth_bound_is_accepted(api: APIClient) -> None:
    dag_text = '{"nodes": [{"node_id": "a", "v": %s}]}' % ("[" * 61 + "]" * 61)
    response = post(api, submission_body(dag_json=dag_text, node_ids_crc32=crc_of(["a"])))
    assert response.status_code == 202, response.json()


def test_large_finite_numbers_in_a_dag_are_kept(api: APIClient) -> None:
    dag_text = (
        '{"nodes": [{"node_id": "a", "weight": 1.5e308, "tiny": 5e-324, '
        '"big": 123456789012345678901234567890}]}'
    )
    response = post(api, submission_body(dag_json=dag_text, node_ids_crc32=crc_of(["a"])))
    assert response.status_code == 202, response.json()
    node = decode_value(bytes(OutboxEvent.objects.get().value)).payload["dag"]["nodes"][0]
    assert node == {
        "node_id": "a",
        "weight": 1.5e308,
        "tiny": 5e-324,
        "big": 123456789012345678901234567890,
    }
    # jsonb keeps numbers as numeric: 1.5e308 comes back written out in digits.
    stored = StrategySubmission.objects.get().dag["nodes"][0]
    assert float(stored["weight"]) == 1.5e308
    assert stored["big"] == 123456789012345678901234567890


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"dag_json": json.dumps({"nodes": [{"node_id": "a\ud800"}]})}, "E_INVALID_DAG"),
        ({"dag_json": json.dumps({"nodes": [{"node_id": "a", "\udc00": 1}]})}, "E_INVALID_DAG"),
        ({"dag_json": json.dumps({"nodes": [{"node_id": "a\ud800"}]}) + " "}, "E_INVALID_DAG"),
        ({"world_ids": ["w\udfff"]}, "E_INVALID_REQUEST"),
        ({"meta": {"note": "\ud800"}}, "E_INVALID_REQUEST"),
        ({"context": {"\udbff": "x"}}, "E_INVALID_REQUEST"),
    ],
)
def test_lone_surrogates_are_refused(api: APIClient, overrides: dict[str, Any], code: str) -> None:
    # Sent as escapes (`\\ud800`): a lone surrogate cannot be encoded as UTF-8.
    raw = json.dumps(submission_body(**overrides)).encode()
    response = api.post("/strategies", raw, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert "surrogate" in response.json()["message"]
    assert_nothing_written()


def test_surrogate_pairs_are_ordinary_characters(api: APIClient) -> None:
    dag = make_dag("a\U0001f600", "b")
    response = api.post(
        "/strategies",
        json.dumps(submission_body(dag, meta={"note": "\U0001f600"})).encode(),
        content_type="application/json",
    )
    assert response.status_code == 202
    stored = StrategySubmission.objects.get()
    assert stored.dag["nodes"][0]["node_id"] == "a\U0001f600"


def test_rebalance_mode_longer_than_stored_is_refused(api: APIClient) -> None:
    body = {"world_id": "w", "scope": "per_world", "orders": [{"symbol": "A", "quantity": 1}]}
    response = api.post("/rebalancing/batches", {**body, "mode": "m" * 101}, format="json")
    assert response.status_code == 422
    assert_nothing_written()


def test_an_empty_body_names_every_missing_field(api: APIClient) -> None:
    response = post(api, {})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "E_INVALID_REQUEST"
    assert body["message"]
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("dag_json", "E_REQUIRED"),
        ("node_ids_crc32", "E_REQUIRED"),
        ("world_ids", "E_WORLD_IDS_REQUIRED"),
    }
    assert all(e["message"] for e in body["errors"])


def test_world_ids_alone_at_fault_keeps_its_code(api: APIClient) -> None:
    response = post(api, submission_body(world_ids=[" ", ""]))
    assert response.status_code == 422
    assert response.json()["code"] == "E_WORLD_IDS_REQUIRED"
    assert [e["field"] for e in response.json()["errors"]] == ["world_ids"]


def test_a_refused_request_is_logged_with_its_code_and_credential(
    api: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="controlplane.api.errors"):
        assert post(api, {}).status_code == 422
    [line] = [r.getMessage() for r in caplog.records if "event=request_refused" in r.getMessage()]
    assert "method=POST path=/strategies status=422 code=E_INVALID_REQUEST" in line
    assert line.endswith("credential=test client")


def test_the_database_away_during_authentication_is_a_503_and_logged(
    api_token: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The refusal's log line must not authenticate again: that would raise once more."""
    from django.db import OperationalError

    import controlplane.api.auth as auth

    def away(token: str, before_lookup: object = None) -> None:
        raise OperationalError("the database is away")

    monkeypatch.setattr(auth, "credential_authenticate", away)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    with caplog.at_level("INFO", logger="controlplane.api.errors"):
        response = post(client, submission_body())
    assert response.status_code == 503
    assert response.json()["code"] == "E_UNAVAILABLE"
    [line] = [r.getMessage() for r in caplog.records if "event=request_refused" in r.getMessage()]
    assert "status=503 code=E_UNAVAILABLE credential=-" in line
