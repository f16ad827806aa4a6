"""The owner-scope migration on a database that already holds submissions: a row sent by
a credential limited to worlds takes that credential's scope, the others the global one;
the scoped unique index is built concurrently and backs the constraint, the global one is
gone; and afterwards a tenant's resubmission finds its own strategy while another
tenant's copy of the DAG is accepted."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from controlplane.domain.tenancy import GLOBAL_SCOPE, dag_owner_scope
from controlplane.models import StrategySubmission
from controlplane.services.credentials import credential_issue, credential_limits
from tests.support.bodies import make_dag, submission_body
from tests.support.migrations import latest_migrations, migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("controlplane", "0007_credential_attribution_and_limits")]


def client_for(name: str, worlds: list[str] | None = None) -> APIClient:
    token = credential_issue(name=name, limits=credential_limits(worlds=worlds or [])).token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def submit(client: APIClient, worlds: list[str], dag: dict[str, Any]) -> Any:
    return client.post("/strategies", submission_body(dag, world_ids=worlds), format="json")


def constraints() -> dict[str, tuple[str, bool]]:
    """The submissions table's unique constraints: (their index's columns, valid)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname, pg_get_indexdef(c.conindid), i.indisvalid FROM pg_constraint c"
            " JOIN pg_index i ON i.indexrelid = c.conindid"
            " WHERE c.conrelid = 'controlplane_strategysubmission'::regclass AND c.contype = 'u'"
        )
        return {name: (d.partition(" USING ")[2], ok) for name, d, ok in cursor.fetchall()}


def test_rows_take_their_credentials_scope_and_the_dag_is_unique_per_scope() -> None:
    tenant = client_for("tenant", ["A", "C"])
    unlimited = client_for("operator")
    dag, other_dag = make_dag("kept-1"), make_dag("kept-2")
    mine = submit(tenant, ["A"], dag).json()["strategy_id"]
    global_row = submit(unlimited, ["A"], other_dag).json()["strategy_id"]
    latest = latest_migrations()
    migrate_to(BEFORE)  # the rows, as the previous release stores them
    try:
        assert constraints() == {"submission_dag_hash_unique": ("btree (dag_hash)", True)}
    finally:
        migrate_to(latest)

    assert constraints() == {
        "submission_scope_dag_hash_unique": ("btree (dag_hash, owner_scope)", True)
    }
    scopes = dict(StrategySubmission.objects.values_list("strategy_id", "owner_scope"))
    assert {str(k): v for k, v in scopes.items()} == {
        mine: dag_owner_scope(["C", "A"]),
        global_row: GLOBAL_SCOPE,
    }
    again = submit(tenant, ["C"], dag)
    assert (again.status_code, again.json().get("strategy_id")) == (409, mine)
    assert submit(client_for("another tenant", ["B"]), ["B"], dag).status_code == 202
    again = submit(unlimited, ["B"], other_dag)
    assert (again.status_code, again.json().get("strategy_id")) == (409, global_row)
