"""The attribution migration on a database that already holds submissions, batches and
credentials: every row is kept, unattributed, and every credential keeps working,
unlimited."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from controlplane.models import ApiCredential, RebalanceBatch, StrategySubmission
from controlplane.services.credentials import credential_issue, credential_limits, hash_token
from controlplane.services.rebalancing import rebalance_submit
from controlplane.services.strategies import strategy_submit
from tests.support.bodies import crc_of, make_dag, submission_body
from tests.support.migrations import latest_migrations, migrate_to
from tests.support.requests import single_batch, strategy_request_of

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("controlplane", "0006_admin_wording")]
OLD_TOKEN = "cp_issued-before-the-migration-" + "x" * 15  # the shape of every token issued


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, table)}


def _indexes(table: str) -> dict[str, tuple[str, bool]]:
    """Each index of `table`: (its definition from USING on, whether it is valid)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
            [table],
        )
        return {name: (definition.partition(" USING ")[2], valid)
                for name, definition, valid in cursor.fetchall()}  # fmt: skip


def test_rows_written_before_the_migration_are_kept_and_credentials_stay_unlimited() -> None:
    dag = make_dag("old-a", "old-b")
    ack = strategy_submit(
        request=strategy_request_of(
            dag_json=submission_body(dag)["dag_json"],
            node_ids_crc32=crc_of(["old-a", "old-b"]),
            world_ids=["A", "B"],
        )
    )
    [batch] = rebalance_submit(request=single_batch("A", [{"symbol": "X", "quantity": 1}])).batches
    latest = latest_migrations()
    migrate_to(BEFORE)
    try:
        assert "credential_id" not in _columns("controlplane_strategysubmission")
        assert "allowed_worlds" not in _columns("controlplane_apicredential")
        with connection.cursor() as cursor:  # a credential as that schema stored it
            cursor.execute(
                "INSERT INTO controlplane_apicredential (name, key_prefix, key_hash, created_at) "
                "VALUES ('old desk', %s, %s, now())",
                [OLD_TOKEN[:10], hash_token(OLD_TOKEN)],
            )
    finally:
        migrate_to(latest)

    # Built concurrently, the indexes are those the atomic migration built: valid, the same.
    submissions = _indexes("controlplane_strategysubmission")
    assert submissions["submission_credential"] == ("btree (credential_id)", True)
    assert _indexes("controlplane_rebalancebatch")["batch_credential"] == (
        "btree (credential_id)",
        True,
    )
    submission = StrategySubmission.objects.get(strategy_id=ack.strategy_id)
    assert (submission.world_ids, submission.credential_id) == (["A", "B"], None)
    assert RebalanceBatch.objects.get(batch_id=batch.batch_id).credential_id is None
    old = ApiCredential.objects.get(name="old desk")
    assert (old.allowed_worlds, old.allowed_scopes) == ([], [])

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {OLD_TOKEN}")
    assert client.get(f"/strategies/{ack.strategy_id}/status").status_code == 200
    assert client.get(f"/rebalancing/batches/{batch.batch_id}").status_code == 200
    body = submission_body(make_dag("new"), world_ids=["anywhere"])
    response = client.post("/strategies", body, format="json")
    assert response.status_code == 202
    new = StrategySubmission.objects.get(strategy_id=response.json()["strategy_id"])
    assert new.credential_id == old.pk

    # An unattributed row is seen by a limited credential only if it may use all its worlds.
    only_a = APIClient()
    token = credential_issue(name="a", limits=credential_limits(worlds=["A"])).token
    only_a.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert only_a.get(f"/strategies/{ack.strategy_id}/status").status_code == 404
    assert only_a.get(f"/rebalancing/batches/{batch.batch_id}").status_code == 200
