"""Security checks (issue 7): every route the URL resolver knows is protected, prod refuses
to start without a secret key, the body and depth limits hold on every write route, and
SQL never gets request data spliced into its text.

The routes come from `get_resolver()`, not from a list in this file: a new route that
answers without a credential (API) or a staff login (admin) fails these tests.
"""

from __future__ import annotations

import ast
import re
import textwrap

import pytest
from django.urls import resolve

from tests.support.paths import ROOT
from tests.support.routes import (
    ADMIN_ROUTES,
    ADMIN_WAY_IN,
    API_ROUTES,
    PUBLIC_PROBES,
    ROUTES,
)

# --- Every route, from the resolver --------------------------------------------------------


def test_the_resolver_walk_finds_every_kind_of_route() -> None:
    assert len(ROUTES) > 10
    assert len(API_ROUTES) + len(ADMIN_ROUTES) + len(PUBLIC_PROBES) + len(ADMIN_WAY_IN) == len(
        set(ROUTES.values())
    )
    assert {
        "/strategies",
        "/strategies/sample/status",
        "/rebalancing/batches",
        "/api/schema",
        "/api/docs",
        "/metrics",
    } <= set(API_ROUTES)
    assert {"/admin/", "/admin/dashboard/", "/admin/controlplane/apicredential/"} <= set(
        ADMIN_ROUTES
    )
    assert set(ROUTES.values()) >= PUBLIC_PROBES | ADMIN_WAY_IN


@pytest.mark.parametrize(("route", "path"), sorted(ROUTES.items()))
def test_each_sample_path_reaches_its_own_route(route: str, path: str) -> None:
    """Otherwise the checks below would test some other view than the one named."""
    # ResolverMatch.route drops the `^` of a nested regex pattern
    assert resolve(path).route == route.replace("/^", "/")


def test_the_non_admin_probes_and_way_in_are_the_only_public_routes() -> None:
    covered = set(API_ROUTES) | set(ADMIN_ROUTES)
    uncovered = set(ROUTES.values()) - covered
    assert uncovered == PUBLIC_PROBES | ADMIN_WAY_IN


# --- SQL text never carries request data --------------------------------------------------

SQL_SINKS = {"execute", "executemany", "raw", "RawSQL", "extra"}
PLACEHOLDERS = re.compile(r"[\s(),%s]*")  # what a placeholder list is made of


def _names(target: ast.AST | None) -> set[str]:
    return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)} if target else set()


class SqlCheck(ast.NodeVisitor):
    """Finds the SQL passed to `execute`-like calls and judges how its text was built.

    Allowed: a string literal; a name bound only to a string literal at module level; an
    item of a module-level literal map of statements; an f-string whose interpolations
    are names bound only to (a) module-level string constants, (b) unpacked or
    subscripted items of a module-level literal of strings (a constant map of table
    names), or (c) a placeholder list built as
    `", ".join(["(%s, %s)"] * n)`. Refused: `%` or `.format(` on SQL text, concatenation,
    and interpolating anything else (function parameters included).
    """

    def __init__(self, tree: ast.Module, filename: str) -> None:
        self.filename = filename
        self.calls = 0
        self.problems: list[str] = []
        self.constants = self._module_constants(tree)
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.visit(tree)

    @staticmethod
    def _is_string_literal_tree(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return all(SqlCheck._is_string_literal_tree(e) for e in node.elts)
        if isinstance(node, ast.Dict):  # a map's keys only select; its values are spliced
            return all(SqlCheck._is_string_literal_tree(v) for v in node.values)
        return False

    def _module_constants(self, tree: ast.Module) -> dict[str, ast.AST]:
        bound: dict[str, list[ast.AST]] = {}
        for statement in tree.body:
            targets: list[ast.expr] = []
            value: ast.AST | None = None
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            for target in targets:
                if isinstance(target, ast.Name) and value is not None:
                    bound.setdefault(target.id, []).append(value)
        return {
            name: values[0]
            for name, values in bound.items()
            if len(values) == 1 and self._is_string_literal_tree(values[0])
        }

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in SQL_SINKS and node.args:
            self.calls += 1
            reason = self._unsafe(node.args[0])
            if reason:
                self.problems.append(f"{self.filename}:{node.lineno}: {reason}")
        self.generic_visit(node)

    def _bindings(self, name: str) -> list[ast.AST] | None:
        """What `name` is bound to in the innermost function; None if it is a parameter."""
        if not self.functions:
            return []
        function = self.functions[-1]
        arguments = function.args
        parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        parameters += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        if name in {a.arg for a in parameters}:
            return None
        found: list[ast.AST] = []
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                if any(name in _names(target) for target in node.targets):
                    found.append(node.value)
            elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.NamedExpr):
                if name in _names(node.target):
                    found.append(node)  # a loop variable, an augmented value...: not allowed
            elif isinstance(node, ast.withitem) and name in _names(node.optional_vars):
                found.append(node)
        return found

    def _safe_fragment(self, value: ast.AST) -> bool:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return True
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
            return value.value.id in self.constants  # an item of a constant map
        return bool(  # ", ".join(["(%s, %s)"] * n)
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "join"
            and isinstance(value.func.value, ast.Constant)
            and PLACEHOLDERS.fullmatch(str(value.func.value.value))
            and len(value.args) == 1
            and isinstance(value.args[0], ast.BinOp)
            and isinstance(value.args[0].op, ast.Mult)
            and isinstance(value.args[0].left, ast.List)
            and all(
                isinstance(e, ast.Constant) and PLACEHOLDERS.fullmatch(str(e.value))
                for e in value.args[0].left.elts
            )
        )

    def _safe_name(self, name: str) -> bool:
        bindings = self._bindings(name)
        if bindings is None:
            return False  # a function parameter
        if not bindings:
            return name in self.constants
        return all(self._safe_fragment(b) for b in bindings)

    def _psycopg_composed(self, call: ast.Call) -> bool:
        """`sql.SQL(<constant>).format(name=sql.Identifier(...), ...)`: psycopg quotes each
        identifier, and the statement around them is a constant."""
        template = call.func.value if isinstance(call.func, ast.Attribute) else None
        if not (
            isinstance(template, ast.Call)
            and _callee(template) == "SQL"
            and len(template.args) == 1
            and self._unsafe(template.args[0]) is None
        ):
            return False
        parts = [*call.args, *(k.value for k in call.keywords)]
        return all(isinstance(p, ast.Call) and _callee(p) == "Identifier" for p in parts)

    def _unsafe(self, sql: ast.AST, hops: int = 0) -> str | None:
        if isinstance(sql, ast.Constant):
            return None if isinstance(sql.value, str) else "SQL is not a string"
        if isinstance(sql, ast.Name):  # follow the name to what it is bound to
            bindings = self._bindings(sql.id)
            if bindings is None:
                return f"SQL is the parameter {sql.id}"
            if not bindings:
                constant = self.constants.get(sql.id)
                return None if isinstance(constant, ast.Constant) else f"{sql.id} is unknown"
            for bound in bindings:
                if not isinstance(bound, ast.expr) or hops > 3:
                    return f"SQL name {sql.id} is bound by a loop, `with` or `+=`"
                reason = self._unsafe(bound, hops + 1)
                if reason:
                    return reason
            return None
        if isinstance(sql, ast.Subscript) and isinstance(sql.value, ast.Name):
            # an item of a constant map of statements
            return None if sql.value.id in self.constants else f"SQL from {sql.value.id}[...]"
        if isinstance(sql, ast.JoinedStr):
            for part in sql.values:
                if isinstance(part, ast.FormattedValue) and not (
                    isinstance(part.value, ast.Name) and self._safe_name(part.value.id)
                ):
                    return f"f-string SQL interpolates {ast.unparse(part.value)}"
            return None
        if isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Mod):
            return "SQL built with % formatting"
        if isinstance(sql, ast.BinOp):
            return "SQL built by concatenation"
        if (
            isinstance(sql, ast.Call)
            and isinstance(sql.func, ast.Attribute)
            and sql.func.attr == "format"
        ):
            if self._psycopg_composed(sql):
                return None
            return "SQL built with .format("
        return f"SQL built from {ast.unparse(sql)}"


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def check_source(source: str, filename: str = "<test>") -> SqlCheck:
    return SqlCheck(ast.parse(textwrap.dedent(source)), filename)


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
