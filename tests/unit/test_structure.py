"""The shape of the code: no import cycle among the project's modules; the commit-log
machinery imports nothing of the domain or the Django project, at import or at run time,
and reads no `settings.GATEWAY` (the domain registers its record handlers); no module of
the service, its dev tools or benchmarks is over 300 lines; no family of three or more
`prefix_*.py` siblings (a package instead); no test module imports another, nor a
conftest."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from tests.support.imports import imported_modules, runtime_imports
from tests.support.paths import ROOT

PACKAGES = ("config", "controlplane", "commitlog", "adminkit", "devstack", "reliability", "bench")
DOMAIN = "controlplane"
LOG_MACHINERY = "commitlog"
# What the commit-log machinery never imports: the domain, and the Django project (its
# settings reach it through django.conf and its own keys only).
NOT_FROM_THE_LOG = ("controlplane", "config")
# ... except the admin helpers both apps' admins use, kept in the project package.
SHARED_WITH_THE_LOG = "config.adminkit"
# Where a family of prefixed siblings is refused, and the folders whose names Django sets.
SERVICE_PACKAGES = ("config", "controlplane", "commitlog", "adminkit")
NAMED_BY_DJANGO = {"migrations", "commands"}
TESTS = ROOT / "tests"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {t for t in targets if t in modules and t != name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_is_read_from_the_sources() -> None:
    graph = import_graph()
    assert "commitlog.registry" in graph["commitlog.consumer.applier"]
    assert "commitlog.registry" in graph["controlplane.services.lifecycle"]


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_the_projects_modules() -> None:
    assert cycles(import_graph()) == []


def log_machinery_offences() -> dict[str, list[str]]:
    """commitlog's modules that import controlplane or config (at module level, in a
    function, or by name through importlib)."""
    offences: dict[str, list[str]] = {}
    for name, path in project_modules().items():
        if name.split(".")[0] != LOG_MACHINERY:
            continue
        named = imported_modules(ast.parse(path.read_text()))
        bad = sorted(
            n
            for n in named
            if n.split(".")[0] in NOT_FROM_THE_LOG
            and not (n == SHARED_WITH_THE_LOG or n.startswith(SHARED_WITH_THE_LOG + "."))
        )
        if bad:
            offences[name] = bad
    return offences


def test_the_commit_log_machinery_imports_nothing_of_the_domain_or_the_project() -> None:
    assert log_machinery_offences() == {}


def test_the_runtime_import_finder_sees_a_function_level_import_module() -> None:
    tree = ast.parse("def f():\n    return importlib.import_module('controlplane.models')")
    assert runtime_imports(tree) == {"controlplane.models"}


def reads_gateway(tree: ast.AST) -> bool:
    """`settings.GATEWAY`, or getattr(settings, "GATEWAY")."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "GATEWAY":
            return True
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "GATEWAY"
        ):
            return True
    return False


def test_the_commit_log_machinery_reads_no_settings_gateway() -> None:
    """GATEWAY is the domain's configuration object; commitlog has settings of its own."""
    readers = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / LOG_MACHINERY).rglob("*.py")
        if reads_gateway(ast.parse(path.read_text()))
    )
    assert readers == []


def test_the_gateway_finder_sees_both_spellings() -> None:
    assert reads_gateway(ast.parse("x = settings.GATEWAY.commitlog_topic"))
    assert reads_gateway(ast.parse("x = getattr(settings, 'GATEWAY', None)"))
    assert not reads_gateway(ast.parse("x = settings.COMMITLOG_TOPIC"))


def families(stems: list[str]) -> list[str]:
    """Prefixes shared by three or more `prefix_*` module names."""
    counts = Counter(stem.split("_")[0] for stem in stems if "_" in stem.strip("_"))
    return sorted(prefix for prefix, count in counts.items() if count >= 3 and prefix)


def test_the_family_finder_finds_three_siblings_of_one_prefix() -> None:
    stems = ["admin_a", "admin_b", "admin_c", "api_x", "api_y", "__init__", "models"]
    assert families(stems) == ["admin"]


def test_no_family_of_prefixed_siblings_in_the_service() -> None:
    """Three `prefix_*.py` modules side by side are a package waiting to be made."""
    found = []
    for package in SERVICE_PACKAGES:
        for folder in sorted({p.parent for p in (ROOT / package).rglob("*.py")}):
            if NAMED_BY_DJANGO & set(folder.relative_to(ROOT).parts):
                continue
            prefixes = families([p.stem for p in folder.glob("*.py")])
            found += [f"{folder.relative_to(ROOT)}/{prefix}_*.py" for prefix in prefixes]
    assert found == []


TEST_MODULE = re.compile(r"test_\w+|conftest")


def _is_test_module(name: str) -> bool:
    return any(TEST_MODULE.fullmatch(part) for part in name.split("."))


def imported_test_modules(tree: ast.AST) -> list[str]:
    """The test modules and conftests a module imports (absolute or relative)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if _is_test_module(alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if _is_test_module(base):
                found.add(base)
            else:  # `from . import test_x`, `from tests import conftest`
                found.update(
                    f"{base}.{alias.name}".lstrip(".")
                    for alias in node.names
                    if _is_test_module(alias.name)
                )
    return sorted(found)


def test_the_test_import_finder_sees_test_modules_and_conftests() -> None:
    source = "from tests.unit.test_a import x\nfrom . import test_b\nfrom tests.conftest import y"
    assert imported_test_modules(ast.parse(source)) == [
        "test_b",
        "tests.conftest",
        "tests.unit.test_a",
    ]
    assert imported_test_modules(ast.parse("from tests.support.flow import relay_all")) == []


def test_no_test_module_imports_another_or_a_conftest() -> None:
    """Shared code lives in tests/support; fixtures in conftest.py files, found by pytest."""
    offenders = {
        str(path.relative_to(ROOT)): imported
        for path in sorted(TESTS.rglob("*.py"))
        if (imported := imported_test_modules(ast.parse(path.read_text())))
    }
    assert offenders == {}


MAX_MODULE_LINES = 300


def test_no_module_is_over_300_lines() -> None:
    """A module that grows past one sitting's reading becomes a package."""
    sizes = {name: len(path.read_text().splitlines()) for name, path in project_modules().items()}
    assert {m: n for m, n in sizes.items() if n > MAX_MODULE_LINES} == {}
