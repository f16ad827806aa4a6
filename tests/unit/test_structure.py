"""The shape of the code: no import cycle among the project's modules, the commit-log
machinery imports nothing of the domain (the domain registers its record handlers), and
no module of the service, its dev tools or benchmarks is over 300 lines."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

PACKAGES = ("controlplane", "commitlog", "devstack", "reliability", "bench")
DOMAIN = "controlplane"
LOG_MACHINERY = "commitlog"


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


def test_the_commit_log_machinery_imports_nothing_of_the_domain() -> None:
    graph = import_graph()
    offenders = {
        module: sorted(t for t in targets if t.split(".")[0] == DOMAIN)
        for module, targets in graph.items()
        if module.split(".")[0] == LOG_MACHINERY
    }
    assert {m: t for m, t in offenders.items() if t} == {}


MAX_MODULE_LINES = 300


def test_no_module_is_over_300_lines() -> None:
    """A module that grows past one sitting's reading becomes a package."""
    sizes = {name: len(path.read_text().splitlines()) for name, path in project_modules().items()}
    assert {m: n for m, n in sizes.items() if n > MAX_MODULE_LINES} == {}
