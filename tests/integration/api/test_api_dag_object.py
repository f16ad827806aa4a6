"""POST /strategies takes `dag_json` as a JSON object as well as a string, within the
same bounds, and the schema says so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from controlplane.models import StrategySubmission
from tests.support.bodies import crc_of, make_dag, submission_body

pytestmark = pytest.mark.django_db


def post(api: APIClient, body: Any) -> Any:
    return api.post("/strategies", body, format="json")


def test_a_dag_given_as_an_object_is_accepted_as_its_text_is(api: APIClient) -> None:
    dag = make_dag("a", "b")
    as_object = post(api, submission_body(dag, dag_json=dag))
    assert as_object.status_code == 202, as_object.json()
    assert StrategySubmission.objects.get().dag["nodes"][:2] == dag["nodes"]
    # The same DAG as text is the same DAG: its hash is the object's.
    as_text = post(api, submission_body(dag, dag_json=json.dumps(dag)))
    assert as_text.status_code == 409, as_text.json()
    assert as_text.json()["strategy_id"] == as_object.json()["strategy_id"]


@pytest.mark.parametrize(
    ("dag_json", "code"),
    [
        ({"edges": []}, "E_INVALID_DAG"),
        ({"nodes": [{"node_id": "a"}, {"node_id": "a"}]}, "E_INVALID_DAG"),
        ([{"node_id": "a"}], "E_INVALID_REQUEST"),
        (5, "E_INVALID_REQUEST"),
    ],
)
def test_an_object_is_judged_as_the_text_is(api: APIClient, dag_json: Any, code: str) -> None:
    response = post(api, submission_body(dag_json=dag_json, node_ids_crc32=crc_of(["a"])))
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == code
    assert StrategySubmission.objects.count() == 0


def test_an_object_is_held_to_the_body_bounds(api: APIClient) -> None:
    deep = {"nodes": [{"node_id": "a", "v": json.loads("[" * 70 + "]" * 70)}]}
    assert post(api, submission_body(dag_json=deep)).json()["code"] == "E_JSON_TOO_DEEP"
    body = json.dumps(submission_body(dag_json={"nodes": [{"node_id": "a", "w": 1}]}))
    body = body.replace('"w": 1', '"w": 1e999')
    response = api.post("/strategies", body, content_type="application/json")
    assert response.json()["code"] == "E_NUMBER_TOO_LARGE"
    assert response.json()["errors"][0]["field"] == "dag_json.nodes[0].w"
    assert StrategySubmission.objects.count() == 0


def test_the_schema_offers_a_string_or_an_object(api: APIClient) -> None:
    spec = api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    field = spec["components"]["schemas"]["StrategySubmitInRequest"]["properties"]["dag_json"]
    assert sorted(option["type"] for option in field["oneOf"]) == ["object", "string"]
