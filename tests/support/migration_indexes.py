"""The index builds a migration makes, read from its operations and the migration state
before each one, with no database: what the check of history tables' index builds reads
(tests/unit/test_migration_index_builds.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

_CREATE_INDEX = re.compile(
    r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?P<concurrently>CONCURRENTLY\s+)?"
    r"(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+ON\s+(?:ONLY\s+)?\"?(?P<table>\w+)",
    re.IGNORECASE,
)
_ADD_INDEXED_CONSTRAINT = re.compile(
    r"\bALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?\"?(?P<table>\w+)\"?\s+.*?"
    r"\bADD\s+(?:CONSTRAINT\s+\S+\s+)?(?:UNIQUE|PRIMARY\s+KEY|EXCLUDE)\b(?!.*\bUSING\s+INDEX\b)",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class IndexBuild:
    migration: tuple[str, str]  # (app label, migration name)
    table: str
    what: str  # the operation, for the failure's message
    concurrent: bool  # built with CONCURRENTLY
    atomic: bool  # the migration runs in one transaction
    creates_table: bool  # the table is created by the same migration

    def __str__(self) -> str:
        app, name = self.migration
        return f"{app}.{name}: {self.what} on {self.table}"


def _table(state: ProjectState, app_label: str, model_name: str) -> str:
    model = state.models[(app_label, model_name.lower())]
    return str(model.options.get("db_table") or f"{app_label}_{model.name_lower}")


def _indexed(field: Any) -> bool:
    # A ForeignKey's db_index is True unless it says otherwise.
    return bool(field.db_index or field.unique or field.primary_key)


def _sql_texts(sql: Any) -> Iterator[str]:
    if isinstance(sql, str):
        yield sql
    elif isinstance(sql, list | tuple):
        for part in sql:
            yield from _sql_texts(part[0] if isinstance(part, list | tuple) else part)


def _builds(op: Any, state: ProjectState, app_label: str) -> Iterator[tuple[str, str, bool]]:
    """(table, what, concurrent) for each index `op` builds, `state` being the one before it."""
    if isinstance(op, migrations.SeparateDatabaseAndState):
        for inner in op.database_operations:
            yield from _builds(inner, state, app_label)
    elif isinstance(op, migrations.AddIndex):
        concurrent = isinstance(op, AddIndexConcurrently)
        yield _table(state, app_label, op.model_name), f"index {op.index.name}", concurrent
    elif isinstance(op, migrations.AddConstraint):
        if isinstance(op.constraint, models.UniqueConstraint | ExclusionConstraint):
            yield _table(state, app_label, op.model_name), f"constraint {op.constraint.name}", False
    elif isinstance(op, migrations.AddField):
        if _indexed(op.field):
            yield _table(state, app_label, op.model_name), f"field {op.name} (indexed)", False
    elif isinstance(op, migrations.AlterField):
        before: Any = state.models[(app_label, op.model_name_lower)].fields[op.name]
        after: Any = op.field
        if (
            (after.db_index and not before.db_index)
            or (after.unique and not before.unique)
            or (after.primary_key and not before.primary_key)
        ):
            yield _table(state, app_label, op.model_name), f"field {op.name} (now indexed)", False
    elif isinstance(op, migrations.AlterUniqueTogether | migrations.AlterIndexTogether):
        model = state.models[(app_label, op.name_lower)]
        before = {tuple(t) for t in model.options.get(op.option_name, ())}
        if {tuple(t) for t in op.option_value or ()} - before:
            yield _table(state, app_label, op.name), op.option_name, False
    elif isinstance(op, migrations.RunSQL):
        for text in _sql_texts(op.sql):
            for found in _CREATE_INDEX.finditer(text):
                concurrent = bool(found["concurrently"])
                yield found["table"].lower(), "CREATE INDEX in SQL", concurrent
            for found in _ADD_INDEXED_CONSTRAINT.finditer(text):
                yield found["table"].lower(), "an indexed constraint in SQL", False


def index_builds(migration: migrations.Migration, state: ProjectState) -> list[IndexBuild]:
    """Every index `migration` builds, `state` being the one before it; `state` is moved
    past the migration."""
    key = (migration.app_label, migration.name)
    created: set[str] = set()
    found = []
    for op in migration.operations:
        if isinstance(op, migrations.CreateModel):
            created.add(str(op.options.get("db_table") or f"{migration.app_label}_{op.name_lower}"))
        for table, what, concurrent in _builds(op, state, migration.app_label):
            found.append(
                IndexBuild(key, table, what, concurrent, migration.atomic, table in created)
            )
        op.state_forwards(migration.app_label, state)
    return found


def plan(loader: MigrationLoader) -> Iterable[migrations.Migration]:
    """Every migration of every app, in an order `migrate` could apply them."""
    seen: set[tuple[str, str]] = set()
    for leaf in sorted(loader.graph.leaf_nodes()):
        for key in loader.graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                yield loader.graph.nodes[key]


def all_index_builds() -> list[IndexBuild]:
    """The index builds of every migration on disk, in the plan's order."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    found: list[IndexBuild] = []
    for migration in plan(loader):
        found += index_builds(migration, state)
    return found
