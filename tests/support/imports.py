"""What a module imports, read from its source: for the layering tests (the commit-log
machinery's independence, the domain's purity)."""

from __future__ import annotations

import ast


def runtime_imports(tree: ast.AST) -> set[str]:
    """Modules named to importlib.import_module or __import__ as a constant string."""
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
        in ("import_module", "__import__")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module `tree` imports, at any level or through importlib; for
    `from package import name` both `package` and `package.name` (which may be a module)."""
    named = runtime_imports(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            named.add(node.module)
            named.update(f"{node.module}.{alias.name}" for alias in node.names)
    return named
