"""Security checks (issue 7): every route the URL resolver knows is protected, prod refuses
to start without a secret key, the body and depth limits hold on every write route, and
SQL never gets request data spliced into its text.

The routes come from `get_resolver()`, not from a list in this file: a new route that
answers without a credential (API) or a staff login (admin) fails these tests.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from commitlog.models import OutboxEvent
from controlplane.models import RebalanceBatch, StrategySubmission
from tests.conftest import submission_body
from tests.test_config import PROD_ENV

ROOT = Path(__file__).resolve().parent.parent

# --- Every route, from the resolver --------------------------------------------------------

# Documented as public (docs/API.md, Routes): the probes, qmtl's health answer, the JSON 404
# of every unknown path ("/" stands for that catch-all route) and the admin's redirect.
PUBLIC_PROBES = {"/healthz", "/readyz", "/health", "/", "/admin"}
ADMIN_WAY_IN = {"/admin/login/", "/admin/logout/"}  # the login page and the way out
SAMPLES = {  # a value for each path converter; an unknown converter fails the collection
    "str": "sample",
    "path": "1",
    "int": "1",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000000",
}
CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")
NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


def _fill_regex_group(match: re.Match[str]) -> str:
    body = match["body"]
    if re.fullmatch(r"\w+(\|\w+)*", body):  # an alternation of words: take the first
        return body.split("|")[0]
    return "no-such-page"  # `.*` and friends


def concrete_path(route: str) -> str:
    """A URL that the resolver sends to `route` (converters filled with sample values)."""
    path = NAMED_GROUP.sub(_fill_regex_group, route)  # regex routes first: `(?P<name>...)`
    path = CONVERTER.sub(lambda m: SAMPLES[m["kind"] or "str"], path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\Z", "")


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield route


ROUTES = {route: concrete_path(route) for route in _walk(get_resolver().url_patterns)}
API_ROUTES = sorted(
    path for path in ROUTES.values() if not path.startswith("/admin/") and path not in PUBLIC_PROBES
)
ADMIN_ROUTES = sorted(
    path for path in ROUTES.values() if path.startswith("/admin/") and path not in ADMIN_WAY_IN
)
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


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


@pytest.mark.django_db
@pytest.mark.parametrize("anonymous_allowed", [False, True])
@pytest.mark.parametrize("path", API_ROUTES)
def test_api_routes_answer_401_without_a_credential_under_prod_rules(
    path: str, anonymous_allowed: bool
) -> None:
    # prod's rules, read at request time; True is refused at start-up in prod, and even
    # if it slipped through it must not open the API.
    with override_settings(IS_PROD=True, API_ALLOW_ANONYMOUS=anonymous_allowed):
        for credential in (None, "Bearer cp_not_a_real_token", "Basic dXNlcjpwYXNz"):
            client = Client(HTTP_AUTHORIZATION=credential) if credential else Client()
            for method in METHODS:
                response = getattr(client, method)(path)
                if path == "/api/docs" and credential is None and method in ("get", "head"):
                    # A browser page: the visitor is sent to log in, and nothing is shown.
                    assert response.status_code == 302, (method, credential)
                    assert response["Location"].startswith("/admin/login/?next=")
                    continue
                assert response.status_code == 401, (method, path, credential)
                assert response["WWW-Authenticate"].startswith("Bearer"), (method, path)
                if response["Content-Type"] == "application/json" and method != "head":
                    assert response.json()["code"] == "E_UNAUTHENTICATED", (method, path)


def logged_in(**flags: bool) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("someone", **flags))  # no password: no hashing
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", API_ROUTES)
def test_a_logged_in_non_staff_user_gets_no_api_route(path: str) -> None:
    client = logged_in()
    with override_settings(IS_PROD=True, API_ALLOW_ANONYMOUS=False):
        for method in ("get", "post"):
            assert getattr(client, method)(path).status_code in (401, 403), (method, path)


@pytest.mark.django_db
@pytest.mark.parametrize("path", API_ROUTES)
def test_api_routes_let_a_credential_through(path: str, api_token: str) -> None:
    """The control: the 401s above come from the missing credential, not from the path."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token}")
    with override_settings(IS_PROD=True, API_ALLOW_ANONYMOUS=False):
        answers = {getattr(client, method)(path).status_code for method in ("get", "post")}
    assert answers.isdisjoint({401, 403}), (path, answers)


@pytest.mark.django_db
@override_settings(IS_PROD=True, API_ALLOW_ANONYMOUS=False)
def test_public_probes_answer_anonymously_and_say_nothing_secret() -> None:
    for path in sorted(PUBLIC_PROBES):
        response = Client().get(path)
        expected = {"/": (404,), "/admin": (302,)}.get(path, (200, 503))
        assert response.status_code in expected, path
        text = response.content.decode()
        assert "postgres://" not in text
        assert "SECRET" not in text.upper()


def _is_login_redirect(response: Any) -> bool:
    return bool(response.status_code == 302 and response["Location"].startswith("/admin/login/"))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_admin_routes_send_anonymous_users_to_the_login_page(path: str) -> None:
    # Stricter than "never 200": even unknown objects and pages redirect to the login.
    for method in ("get", "post"):
        response = getattr(Client(), method)(path)
        assert _is_login_redirect(response), (method, path, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_a_logged_in_non_staff_user_cannot_reach_admin_pages(path: str) -> None:
    client = logged_in(is_staff=False)
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert _is_login_redirect(response), (method, path, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_admin_routes_open_to_staff(path: str) -> None:
    """The control: a superuser is not sent to the login page, so the redirects above come
    from who is asking, not from the sample path."""
    client = logged_in(is_staff=True, is_superuser=True)
    assert not _is_login_redirect(client.get(path)), path


def test_the_non_admin_probes_and_way_in_are_the_only_public_routes() -> None:
    covered = set(API_ROUTES) | set(ADMIN_ROUTES)
    uncovered = set(ROUTES.values()) - covered
    assert uncovered == PUBLIC_PROBES | ADMIN_WAY_IN


# --- Prod has no secret default ---------------------------------------------------------------


def _prod_process(args: list[str], **overrides: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COMMITLOG_", "PROFILE", "DJANGO_", "API_", "CONTROLPLANE_CONFIG"))
    }
    env.update({**PROD_ENV, "COMMITLOG_BOOTSTRAP": "kafka.example:9092"})
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )


WEB = ["-c", "import config.wsgi"]  # what gunicorn loads
MANAGE = [str(ROOT / "manage.py"), "check"]  # every manage.py process: consumer, migrate...


@pytest.mark.system
@pytest.mark.parametrize("entry", [WEB, MANAGE], ids=["wsgi", "manage.py"])
@pytest.mark.parametrize("secret", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_prod_refuses_to_start_without_a_secret_key(entry: list[str], secret: str | None) -> None:
    result = _prod_process(entry, DJANGO_SECRET_KEY=secret)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DJANGO_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.system
def test_prod_starts_with_a_secret_key() -> None:
    """The control: the same process, given the key, starts."""
    result = _prod_process(WEB)
    assert result.returncode == 0, result.stderr


def _dev_fallback_secret_key() -> str:
    """The literal default of DJANGO_SECRET_KEY in config/settings (used in dev only)."""
    tree = ast.parse((ROOT / "config" / "settings" / "__init__.py").read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "DJANGO_SECRET_KEY"
            and isinstance(node.args[1], ast.Constant)
        ):
            return str(node.args[1].value)
    raise AssertionError("no DJANGO_SECRET_KEY default found in settings.py")


@pytest.mark.system
def test_the_dev_fallback_key_is_refused_in_prod() -> None:
    """Copying the dev key into a prod environment stops the process at start-up."""
    result = _prod_process(
        [*MANAGE, "--deploy", "--fail-level", "WARNING"],
        DJANGO_SECRET_KEY=_dev_fallback_secret_key(),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "configuration error: DJANGO_SECRET_KEY" in result.stderr


# --- Body size and JSON depth on every write route -------------------------------------------

LIMIT = 4096
WRITE_ROUTES = ["/strategies", "/rebalancing/batches"]


def _depth(value: Any) -> int:
    """JSON nesting depth (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            stack += [
                (child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)
            ]
    return deepest


def valid_body(route: str, extra: Any = None) -> dict[str, Any]:
    """A body the route accepts, carrying `extra` where free-form JSON is allowed."""
    if route == "/strategies":
        return submission_body(meta={"execution_domain": "live", "extra": extra})
    return {
        "world_id": "w1",
        "scope": "per_world",
        "orders": [{"symbol": "A", "qty": 1, "x": extra}],
    }


def body_of_size(route: str, size: int) -> bytes:
    base = json.dumps(valid_body(route, "")).encode()
    body = json.dumps(valid_body(route, "x" * (size - len(base)))).encode()
    assert len(body) == size
    return body


def body_of_depth(route: str, depth: int) -> bytes:
    nested: Any = 0
    for _ in range(depth - _depth(valid_body(route, nested))):
        nested = [nested]
    assert _depth(valid_body(route, nested)) == depth
    return json.dumps(valid_body(route, nested)).encode()


def _rows() -> tuple[int, int, int]:
    return (
        StrategySubmission.objects.count(),
        RebalanceBatch.objects.count(),
        OutboxEvent.objects.count(),
    )


def post(client: Client, route: str, body: bytes, **extra: Any) -> Any:
    return client.generic("POST", route, body, content_type="application/json", **extra)


@pytest.fixture
def client(api_token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token}")


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
@override_settings(API_MAX_BODY_BYTES=LIMIT)
def test_bodies_over_the_limit_are_413_and_write_nothing(client: Client, route: str) -> None:
    at_limit = post(client, route, body_of_size(route, LIMIT))
    assert at_limit.status_code == 202, at_limit.json()  # the limit itself is allowed
    before = _rows()
    for size in (LIMIT + 1, 10 * LIMIT):
        response = post(client, route, body_of_size(route, size))
        assert response.status_code == 413, size
        assert response.json()["code"] == "E_PAYLOAD_TOO_LARGE"
        assert _rows() == before


# Django's own cap (DATA_UPLOAD_MAX_MEMORY_SIZE) trips while DRF reads the body: the API's
# exception handler must still answer a coded 413 (it once let Django answer an HTML 400).


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_bodies_over_the_default_limit_are_a_coded_413(client: Client, route: str) -> None:
    response = post(client, route, body_of_size(route, 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "E_PAYLOAD_TOO_LARGE"
    assert _rows() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_a_declared_length_over_the_limit_is_a_coded_413(client: Client, route: str) -> None:
    response = post(client, route, b"{}", CONTENT_LENGTH=str(10**12))
    assert response.status_code == 413
    assert response.json()["code"] == "E_PAYLOAD_TOO_LARGE"
    assert _rows() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_bodies_over_the_default_limit_are_refused_and_write_nothing(
    client: Client, route: str
) -> None:
    """What holds today despite the bug above: refused before parsing, nothing written."""
    for extra, body in [
        ({}, body_of_size(route, 1024 * 1024 + 1)),
        ({"CONTENT_LENGTH": str(10**12)}, b"{}"),
    ]:
        response = post(client, route, body, **extra)
        assert response.status_code in (400, 413)
        assert _rows() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_json_deeper_than_the_limit_is_422_and_writes_nothing(client: Client, route: str) -> None:
    at_limit = post(client, route, body_of_depth(route, 64))
    assert at_limit.status_code == 202, at_limit.json()
    before = _rows()
    for body in [
        body_of_depth(route, 65),
        body_of_depth(route, 500),
        b"[" * 200_000 + b"]" * 200_000,  # deeper than Python's parser can go
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    ]:
        response = post(client, route, body)
        assert response.status_code == 422, len(body)
        assert response.json()["code"] == "E_JSON_TOO_DEEP"
        assert _rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize("route", WRITE_ROUTES)
@pytest.mark.parametrize(
    "body", [b"", b"{", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe{}", b"{}garbage"]
)
def test_bodies_that_are_not_json_are_400(client: Client, route: str, body: bytes) -> None:
    response = post(client, route, body)
    if body == b"":  # no body at all: nothing to parse, so the fields are missing
        assert response.status_code == 422
    else:
        assert response.status_code == 400
        assert response.json()["code"] == "E_MALFORMED_JSON"
    assert _rows() == (0, 0, 0)


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
