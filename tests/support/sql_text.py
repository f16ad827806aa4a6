"""The SQL rule's checker (docs/ARCHITECTURE.md, "SQL text"): it finds the SQL passed to
`execute`-like calls and judges how its text was built.

Constant text is: a string literal; a module-level name bound once to constant text;
`+` of constant texts; an f-string that interpolates constant text only; an item of a
module-level literal of constant text (a map of statements, a map of table names); at
module level, a comprehension that builds such a literal from another one. Inside a
function, a name bound only to constant text (or unpacked from an item of a module-level
constant) and a placeholder list `", ".join(["(%s, %s)"] * n)` count as constant too,
and so does psycopg's `sql.SQL(<constant>).format(name=sql.Identifier(...))`.

A name imported from another module of the repository counts as that module's name does
(a module-level constant there, such as commitlog's OUTBOX_ROW_INSERT).

Refused: `%` or `.format(` on SQL text, and splicing anything else into it: a function
parameter, a call's result, a loop variable, a name bound more than once at module level.
"""

from __future__ import annotations

import ast
import functools
import re
import textwrap
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

SQL_SINKS = {"execute", "executemany", "raw", "RawSQL", "extra"}
PLACEHOLDERS = re.compile(r"[\s(),%s]*")  # what a placeholder list is made of
COMPREHENSIONS = (ast.DictComp, ast.ListComp, ast.SetComp, ast.GeneratorExp)
CONTAINERS = (ast.Dict, ast.List, ast.Tuple, ast.Set, *COMPREHENSIONS)
MAX_HOPS = 4  # names followed through assignments before giving up (and refusing)


def _names(target: ast.AST | None) -> set[str]:
    return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)} if target else set()


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


class SqlCheck(ast.NodeVisitor):
    """The SQL of one module: `calls` found, `problems` (file:line: reason) among them."""

    def __init__(self, tree: ast.Module, filename: str) -> None:
        self.filename = filename
        self.calls = 0
        self.problems: list[str] = []
        self.constants = self._module_constants(tree)
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.visit(tree)

    # --- Module level: which names are constant text ----------------------------------------

    def _module_constants(self, tree: ast.Module) -> dict[str, ast.AST]:
        """Names bound once at module level, in order, to constant text or literals of it."""
        bindings: dict[str, int] = {}
        assignments: list[tuple[str, ast.AST]] = []
        imported: dict[str, ast.AST] = {}
        for statement in tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
                for alias in statement.names:
                    if alias.name in _constants_of(statement.module):
                        imported[alias.asname or alias.name] = ast.Constant("")
                        bindings[alias.asname or alias.name] = 1
            targets: list[ast.expr] = []
            value: ast.AST | None = None
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            elif isinstance(statement, ast.AugAssign | ast.For | ast.With):
                targets = [statement.target] if not isinstance(statement, ast.With) else []
                for name in _names(statement) if isinstance(statement, ast.For) else ():
                    bindings[name] = bindings.get(name, 0) + 2
            for target in targets:
                for name in _names(target):
                    bindings[name] = bindings.get(name, 0) + 1
                if isinstance(target, ast.Name) and value is not None:
                    assignments.append((target.id, value))
        self.constants = dict(imported)
        for name, value in assignments:
            if bindings[name] == 1 and self._constant(value, frozenset()):
                self.constants[name] = value
        return self.constants

    def _constant(self, node: ast.AST, local: frozenset[str]) -> bool:
        """Whether `node` is made of constant text only (`local`: comprehension variables
        that iterate over a constant)."""
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        if isinstance(node, ast.Name):
            return node.id in local or node.id in self.constants
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._constant(node.left, local) and self._constant(node.right, local)
        if isinstance(node, ast.JoinedStr):
            return all(
                not isinstance(part, ast.FormattedValue) or self._constant(part.value, local)
                for part in node.values
            )
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return all(self._constant(element, local) for element in node.elts)
        if isinstance(node, ast.Dict):  # a map's keys only select; its values are spliced
            return all(self._constant(value, local) for value in node.values)
        if isinstance(node, ast.Subscript):  # the index only selects
            return self._constant(node.value, local)
        if isinstance(node, COMPREHENSIONS):
            for generator in node.generators:
                if not self._constant_iterable(generator.iter, local):
                    return False
                local = local | _names(generator.target)
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            return all(self._constant(part, local) for part in parts)
        return False

    def _constant_iterable(self, node: ast.AST, local: frozenset[str]) -> bool:
        """A constant, or `.items()`, `.values()`, `.keys()` of one."""
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("items", "values", "keys")
            and not node.args
        ):
            return self._constant(node.func.value, local)
        return self._constant(node, local)

    # --- Functions: the calls and the names they use -----------------------------------------

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if _callee(node) in SQL_SINKS and node.args:
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

    @staticmethod
    def _placeholder_list(value: ast.AST) -> bool:
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

    def _fragment_unsafe(self, value: ast.AST, hops: int) -> str | None:
        """Why `value`, spliced into SQL text, is not constant; None if it is."""
        if self._placeholder_list(value):
            return None
        return self._unsafe(value, hops, fragment=True)

    def _psycopg_composed(self, call: ast.Call, hops: int) -> bool:
        """`sql.SQL(<constant>).format(name=sql.Identifier(...), ...)`: psycopg quotes each
        identifier, and the statement around them is a constant."""
        template = call.func.value if isinstance(call.func, ast.Attribute) else None
        if not (
            isinstance(template, ast.Call)
            and _callee(template) == "SQL"
            and len(template.args) == 1
            and self._unsafe(template.args[0], hops + 1) is None
        ):
            return False
        parts = [*call.args, *(k.value for k in call.keywords)]
        return all(isinstance(p, ast.Call) and _callee(p) == "Identifier" for p in parts)

    def _unsafe(self, sql: ast.AST, hops: int = 0, *, fragment: bool = False) -> str | None:
        """Why `sql` is not constant text; None if it is."""
        if hops > MAX_HOPS:
            return "SQL built through too many names to follow"
        if isinstance(sql, ast.Constant):
            return None if isinstance(sql.value, str) else "SQL is not a string"
        if isinstance(sql, ast.Name):  # follow the name to what it is bound to
            bindings = self._bindings(sql.id)
            if bindings is None:
                return f"SQL is the parameter {sql.id}"
            if not bindings:
                constant = self.constants.get(sql.id)
                if constant is None:
                    return f"{sql.id} is not a module-level constant"
                if isinstance(constant, CONTAINERS) and not fragment:
                    return f"SQL is the whole of {sql.id}, not one of its statements"
                return None
            for bound in bindings:
                if not isinstance(bound, ast.expr):
                    return f"SQL name {sql.id} is bound by a loop, `with` or `+=`"
                reason = self._fragment_unsafe(bound, hops + 1)
                if reason:
                    return reason
            return None
        if isinstance(sql, ast.Subscript):  # an item of a constant map of statements
            if isinstance(sql.value, ast.Name) and sql.value.id in self.constants:
                return None
            return f"SQL from {ast.unparse(sql.value)}[...]"
        if isinstance(sql, ast.JoinedStr):
            for part in sql.values:
                if isinstance(part, ast.FormattedValue) and self._fragment_unsafe(
                    part.value, hops + 1
                ):
                    return f"f-string SQL interpolates {ast.unparse(part.value)}"
            return None
        if isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Add):
            for side in (sql.left, sql.right):
                if self._fragment_unsafe(side, hops + 1):
                    return f"SQL built by concatenation of {ast.unparse(side)}"
            return None
        if isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Mod):
            return "SQL built with % formatting"
        if (
            isinstance(sql, ast.Call)
            and isinstance(sql.func, ast.Attribute)
            and sql.func.attr == "format"
        ):
            return None if self._psycopg_composed(sql, hops) else "SQL built with .format("
        return f"SQL built from {ast.unparse(sql)}"


@functools.cache
def _constants_of(module: str) -> frozenset[str]:
    """The module-level constant names of a module of the repository (none for others)."""
    path = REPOSITORY.joinpath(*module.split(".")).with_suffix(".py")
    if not path.is_file():
        return frozenset()
    return frozenset(SqlCheck(ast.parse(path.read_text()), str(path)).constants)


def check_source(source: str, filename: str = "<test>") -> SqlCheck:
    return SqlCheck(ast.parse(textwrap.dedent(source)), filename)
