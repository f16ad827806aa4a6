"""A rebalance batch's Idempotency-Key in the admin: on the batch's page and as a search
term, both answered by an index of the key table however many keys it holds."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

BATCHES = "/admin/controlplane/rebalancebatch/"
KEY_TABLE = '"controlplane_idempotencykey"'
# Many keys of other clients, as a long-running system holds, and statistics on them.
SEED_KEYS = """
    INSERT INTO controlplane_idempotencykey (credential_id, key, request_sha256, batch_ids,
                                             created_at)
    SELECT NULL, 'seeded-' || i, md5(i::text) || md5(i::text), ARRAY['seed:' || i], now()
    FROM generate_series(1, 50000) AS i
"""

pytestmark = pytest.mark.django_db


def _send(api: APIClient, key: str, *worlds: str) -> list[str]:
    body = {"per_world": {world: [{"symbol": "A", "quantity": 1}] for world in worlds}}
    response = api.post("/rebalancing/batches", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 202, response.content
    return [batch["batch_id"] for batch in response.json()["batches"]]


def _key_table_plans(queries: CaptureQueriesContext) -> list[str]:
    """EXPLAIN of each captured statement that reads the key table."""
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if KEY_TABLE in query["sql"] and query["sql"].startswith("SELECT"):
                cursor.execute(f"EXPLAIN {query['sql']}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.fixture
def many_keys(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(SEED_KEYS)
        cursor.execute("ANALYZE controlplane_idempotencykey")


def test_a_batch_page_shows_its_key_through_the_index(
    admin_client: Client, api: APIClient, many_keys: None
) -> None:
    (batch_id,) = _send(api, "order-run-2026-12-07", "alpha")
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(f"{BATCHES}{quote(batch_id)}/change/")
    assert page.status_code == 200
    assert "order-run-2026-12-07" in page.content.decode()
    plans = _key_table_plans(queries)
    assert len(plans) == 1
    assert "Seq Scan" not in plans[0]
    assert "idempotency_batch_ids_gin" in plans[0]  # not a walk of the primary key


def test_a_batch_sent_without_a_key_says_so(admin_client: Client, api: APIClient) -> None:
    body = {"world_id": "alpha", "scope": "per_world", "orders": [{"symbol": "A", "quantity": 1}]}
    batch_id = api.post("/rebalancing/batches", body, format="json").json()["batches"][0][
        "batch_id"
    ]
    page = admin_client.get(f"{BATCHES}{quote(batch_id)}/change/").content.decode()
    assert "none (sent without one" in page


def test_batches_are_found_by_their_key_through_the_index(
    admin_client: Client, api: APIClient, many_keys: None
) -> None:
    made = _send(api, "nightly-7f3c", "alpha", "beta")
    (elsewhere,) = _send(api, "nightly-other", "gamma")
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(BATCHES, {"q": "nightly-7f3c"})
    assert page.status_code == 200
    assert sorted(row.pk for row in page.context["cl"].result_list) == sorted(made)
    assert elsewhere not in page.content.decode()
    plans = _key_table_plans(queries)
    assert len(plans) == 1
    assert "Seq Scan" not in plans[0]
    assert "idempotency_key_search" in plans[0]  # not a walk of the unique index
    # A key of no batch finds nothing, and neither does a key's first characters.
    assert not admin_client.get(BATCHES, {"q": "nightly-7f"}).context["cl"].result_list
