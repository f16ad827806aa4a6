"""No migration that runs on a database holding history builds an index on a history table
in a way that blocks its writes: outside the migration that creates the table, an index is
built with AddIndexConcurrently in a migration that is not atomic (CREATE INDEX
CONCURRENTLY cannot run in a transaction). Read from the migrations of every app, with no
database; the checker's own cases come first, each of which it must flag or pass."""

from __future__ import annotations

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.state import ProjectState

from tests.support.migration_indexes import IndexBuild, all_index_builds, index_builds
from tests.support.sql_audit import HISTORY_TABLES

# The tables that grow with use, and so may be large when a migration runs.
GROWING_TABLES = frozenset(
    {*HISTORY_TABLES, "commitlog_invalidrecord", "commitlog_recordconflict",
     "controlplane_idempotencykey"}
)  # fmt: skip
# Reshaped the indexes of tables created the same day, before any database held history,
# and every database has applied them. Each also drops the index it replaces (the DAG's
# uniqueness among them), so made non-atomic it would leave a window without it.
BASELINE = {
    ("controlplane", "0002_explicit_indexes_hot_status"),
    ("commitlog", "0004_lean_indexes"),
}


def blocking(build: IndexBuild) -> bool:
    return (
        build.table in GROWING_TABLES
        and not build.creates_table
        and build.migration not in BASELINE
        and not (build.concurrent and not build.atomic)
    )


def test_no_migration_builds_an_index_on_a_history_table_that_blocks_its_writes() -> None:
    builds = all_index_builds()
    assert any(b.table == "controlplane_strategysubmission" for b in builds)  # it reads them
    assert [str(b) for b in builds if blocking(b)] == []


# --- the checker's own cases, on a model of a history table ---


def _state() -> ProjectState:
    state = ProjectState()
    migrations.CreateModel(
        "StrategySubmission",
        [
            ("id", models.BigAutoField(primary_key=True)),
            ("dag_hash", models.CharField(max_length=64)),
        ],
    ).state_forwards("controlplane", state)
    return state


def _migration(
    *operations: migrations.operations.base.Operation, atomic: bool = True
) -> migrations.Migration:
    case: type[migrations.Migration] = type(
        "Migration", (migrations.Migration,), {"operations": list(operations), "atomic": atomic}
    )
    return case("9999_case", "controlplane")


INDEX = models.Index(fields=["dag_hash"], name="case_index")


@pytest.mark.parametrize(
    ("operation", "atomic"),
    [
        (migrations.AddIndex("strategysubmission", INDEX), False),
        (AddIndexConcurrently("strategysubmission", INDEX), True),  # cannot, in a transaction
        (migrations.AddConstraint(
            "strategysubmission",
            models.UniqueConstraint(fields=["dag_hash"], name="case_unique")), False),
        (migrations.AddField(
            "strategysubmission", "other", models.CharField(max_length=5, db_index=True)), False),
        (migrations.AddField(
            "strategysubmission", "sender", models.ForeignKey("auth.User", models.PROTECT)), False),
        (migrations.AlterField(
            "strategysubmission", "dag_hash", models.CharField(max_length=64, unique=True)), False),
        (migrations.AlterUniqueTogether("strategysubmission", {("id", "dag_hash")}), False),
        (migrations.RunSQL(
            "CREATE INDEX case ON controlplane_strategysubmission (dag_hash)"), False),
        (migrations.RunSQL(
            ["ALTER TABLE controlplane_strategysubmission ADD CONSTRAINT c UNIQUE (dag_hash)"]),
         False),
        (migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY case ON controlplane_strategysubmission (dag_hash)"), True),
    ],
)  # fmt: skip
def test_the_checker_flags_a_blocking_build(
    operation: migrations.operations.base.Operation, atomic: bool
) -> None:
    builds = index_builds(_migration(operation, atomic=atomic), _state())
    assert [blocking(b) for b in builds] == [True], builds


@pytest.mark.parametrize(
    "operation",
    [
        AddIndexConcurrently("strategysubmission", INDEX),
        migrations.RunSQL(
            'CREATE UNIQUE INDEX CONCURRENTLY "case"'
            ' ON "controlplane_strategysubmission" (dag_hash)'
        ),
    ],
)
def test_the_checker_passes_a_concurrent_build_in_a_migration_that_is_not_atomic(
    operation: migrations.operations.base.Operation,
) -> None:
    builds = index_builds(_migration(operation, atomic=False), _state())
    assert [(b.table, blocking(b)) for b in builds] == [("controlplane_strategysubmission", False)]


def test_the_checker_passes_what_needs_no_concurrent_build() -> None:
    created = _migration(
        migrations.CreateModel(
            "RebalanceBatch",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("world_id", models.CharField(max_length=9)),
            ],
        ),
        migrations.AddIndex("rebalancebatch", models.Index(fields=["world_id"], name="w")),
    )
    unindexed = _migration(
        migrations.AddField(
            "strategysubmission",
            "sender",
            models.ForeignKey("auth.User", models.PROTECT, null=True, db_index=False),
        ),
        migrations.AlterField("strategysubmission", "dag_hash", models.CharField(max_length=70)),
    )
    assert [blocking(b) for b in index_builds(created, ProjectState())] == [False]
    assert index_builds(unindexed, _state()) == []
