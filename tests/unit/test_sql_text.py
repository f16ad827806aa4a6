"""The SQL rule (docs/ARCHITECTURE.md, "SQL text"): the service's SQL is constant text,
values travel as parameters and identifiers come from constants. The checker reads every
statement of the service; its own tests show what it refuses and what it accepts."""

from __future__ import annotations

import ast

import pytest

from tests.support.paths import ROOT
from tests.support.sql_text import SqlCheck, check_source


def test_every_sql_text_in_the_service_passes_its_values_as_parameters() -> None:
    calls, problems = 0, []
    for package in ("commitlog", "controlplane"):
        for path in sorted((ROOT / package).rglob("*.py")):
            check = SqlCheck(ast.parse(path.read_text()), str(path.relative_to(ROOT)))
            calls += check.calls
            problems += check.problems
    assert problems == []
    assert calls >= 5  # a floor: the checker did find the service's SQL (10 calls today)


@pytest.mark.parametrize(
    "source",
    [
        'def f(cursor, strategy_id):\n    cursor.execute(f"SELECT 1 WHERE id = {strategy_id}")',
        'def f(cursor, data):\n    cursor.execute("SELECT %s" % data["world_id"])',
        'def f(cursor, body):\n    cursor.execute("SELECT {}".format(body))',
        'def f(cursor, body):\n    cursor.execute("SELECT " + body)',
        'def f(cursor, request):\n    sql = f"DELETE FROM t WHERE k = {request.GET}"\n'
        "    cursor.execute(sql)",
        'def f(cursor, rows):\n    values = ", ".join(rows)\n'
        '    cursor.execute(f"INSERT INTO t VALUES {values}")',
        "def f(Model, name):\n    Model.objects.raw(f\"SELECT * FROM t WHERE n = '{name}'\")",
        'TABLE = input()\ndef f(cursor):\n    cursor.execute(f"SELECT * FROM {TABLE}")',
        'SQL = {"a": input()}\ndef f(cursor, event):\n    cursor.execute(SQL[event])',
        # psycopg composition quotes identifiers only: a spliced literal or template is out.
        'def f(cursor, name):\n    cursor.execute(sql.SQL("SELECT {}").format(sql.SQL(name)))',
        'def f(cursor, body):\n    cursor.execute(sql.SQL(body).format(sql.Identifier("t")))',
    ],
)
def test_the_sql_check_refuses_spliced_values(source: str) -> None:
    assert check_source(source).problems


def test_the_sql_check_accepts_the_safe_forms() -> None:
    source = """
        _TABLES = {"a": ("t_a", "id", "uuid")}
        _CLAIM = "SELECT id FROM t WHERE state = %s LIMIT %s"
        _AGED = "DELETE FROM {table} WHERE at < %s"
        _STATEMENTS = {"a": "DELETE FROM t_a WHERE id = %s"}

        def f(cursor, items, event):
            cursor.execute("SELECT 1")
            cursor.execute(_STATEMENTS[event], [1])
            cursor.execute(_CLAIM, ["pending", 10])
            table, key, key_type = _TABLES[event]
            values = ", ".join(["(%s, %s)"] * len(items))
            cursor.execute(f"UPDATE {table} SET x = 1 WHERE {key} = %s::{key_type}", [1])
            cursor.execute(f"INSERT INTO t VALUES {values}", [1, 2])
            cursor.execute(sql.SQL(_AGED).format(table=sql.Identifier(items.table)), [1])
    """
    check = check_source(source)
    assert check.calls == 6
    assert check.problems == []


def test_the_sql_check_accepts_statements_built_from_constant_parts() -> None:
    source = """
        _BASE = "SELECT id FROM "
        _TABLE = "t_a"
        _SELECT = _BASE + _TABLE + " WHERE id = %s"
        _LOCK = f"{_SELECT} FOR UPDATE"
        _TABLES = {"a": ("t_a", "id"), "b": ("t_b", "key")}
        _BY_EVENT = {
            event: f"SELECT {key} FROM {table} WHERE {key} = %s ORDER BY {key}"
            for event, (table, key) in _TABLES.items()
        }

        def f(cursor, event):
            cursor.execute(_SELECT, [1])
            cursor.execute(_LOCK, [1])
            cursor.execute(_BY_EVENT[event], [1])
            cursor.execute(_BASE + _TABLE, [])
            cursor.execute(f"{_SELECT} LIMIT %s", [1, 2])
            statement = _LOCK + " NOWAIT"
            cursor.execute(statement, [1])
    """
    check = check_source(source)
    assert check.calls == 6
    assert check.problems == []


@pytest.mark.parametrize(
    "source",
    [
        '_BASE = "SELECT * FROM t WHERE id = "\ndef f(cursor, strategy_id):\n'
        "    cursor.execute(_BASE + strategy_id)",
        'def f(cursor, name):\n    sql = "SELECT * FROM t WHERE n = " + name\n'
        "    cursor.execute(sql)",
        "import os\n_Q = f\"SELECT * FROM {os.environ['T']}\"\ndef f(cursor):\n"
        "    cursor.execute(_Q)",
        '_T = {"a": "t"}\n'
        '_Q = {k: f"SELECT * FROM {v} WHERE x = {input()}" for k, v in _T.items()}\n'
        "def f(cursor, e):\n    cursor.execute(_Q[e])",
        '_Q = {k: f"SELECT * FROM {k}" for k in input().split()}\n'
        "def f(cursor, e):\n    cursor.execute(_Q[e])",
        '_Q = "SELECT 1"\n_Q = _Q + input()\ndef f(cursor):\n    cursor.execute(_Q)',
        '_T = "t"\ndef f(cursor, where):\n    cursor.execute(f"SELECT * FROM {_T} WHERE {where}")',
        '_Q = {"a": "SELECT 1"}\ndef f(cursor):\n    cursor.execute(_Q)',
    ],
)
def test_the_sql_check_refuses_constant_parts_mixed_with_a_value(source: str) -> None:
    assert check_source(source).problems
