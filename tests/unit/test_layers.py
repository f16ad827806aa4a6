"""The domain's layers: `controlplane/domain/` is pure code (no model, no ORM, no API, no
service), and a request is validated once: the services that take a cleaned request
import none of the checks that made it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.imports import imported_modules
from tests.support.paths import ROOT

DOMAIN = ROOT / "controlplane" / "domain"
# What pure code never imports. Django's enums (TextChoices) are plain Python.
NOT_FROM_THE_DOMAIN = ("controlplane.models", "controlplane.api", "controlplane.services",
                       "controlplane.admin", "controlplane.ops", "controlplane.selectors",
                       "django.db", "commitlog")  # fmt: skip
ALLOWED_IN_THE_DOMAIN = ("django.db.models.enums",)
# The checks of the one validation pass, which the serializers call and the services don't.
VALIDATION = {
    "controlplane.domain.submission": {"strategy_request"},
    "controlplane.domain.orders": {"rebalance_request", "group_single", "group_multi",
                                   "clean_order"},
    "controlplane.domain.worlds": {"normalize_world_ids"},
    "controlplane.domain.identifiers": {"check_identifier"},
    "controlplane.domain.dag": {"decode_dag_json", "verify_checksum", "node_ids"},
    "controlplane.domain.request_caps": {"cap_orders", "cap_groups", "cap_world_ids"},
    "controlplane.domain.json_bounds": {"bounded_loads", "contains_nul"},
}  # fmt: skip
SERVICES_TAKING_A_REQUEST = ("strategies.py", "rebalancing.py")


def imported_names(source: str) -> set[tuple[str, str]]:
    """(module, name) for each `from module import name`."""
    return {
        (node.module, alias.name)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
        for alias in node.names
    }


def domain_offences() -> dict[str, list[str]]:
    offences: dict[str, list[str]] = {}
    for path in sorted(DOMAIN.glob("*.py")):
        modules = imported_modules(ast.parse(path.read_text()))
        bad = sorted(
            m
            for m in modules
            if any(m == n or m.startswith(n + ".") for n in NOT_FROM_THE_DOMAIN)
            and not any(m == a or m.startswith(a + ".") for a in ALLOWED_IN_THE_DOMAIN)
        )
        if bad:
            offences[path.name] = bad
    return offences


def rechecks(source: str) -> list[str]:
    """The validation functions a module imports by name, or calls through its module
    (`dags.decode_dag_json(...)`)."""
    found = set()
    for module, name in imported_names(source):
        if name in VALIDATION.get(module, set()):
            found.add(f"{module}.{name}")
    every_check = set().union(*VALIDATION.values())
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in every_check:
            found.add(f"<module>.{node.attr}")
    return sorted(found)


def test_the_domain_finder_sees_a_model_import() -> None:
    source = "from controlplane import models\nfrom django.db.models.enums import TextChoices"
    assert "controlplane.models" in imported_modules(ast.parse(source))


def test_the_domain_is_pure_code() -> None:
    assert domain_offences() == {}


def test_the_recheck_finder_sees_a_validation_function() -> None:
    assert rechecks("from controlplane.domain.worlds import normalize_world_ids") == [
        "controlplane.domain.worlds.normalize_world_ids"
    ]


def test_the_recheck_finder_sees_a_call_through_a_module() -> None:
    assert rechecks("from controlplane.domain import dag as d\nd.verify_checksum([], 0)") == [
        "<module>.verify_checksum"
    ]


def test_services_taking_a_cleaned_request_do_not_check_it_again() -> None:
    services = Path(ROOT / "controlplane" / "services")
    found = {name: rechecks((services / name).read_text()) for name in SERVICES_TAKING_A_REQUEST}
    assert found == {name: [] for name in SERVICES_TAKING_A_REQUEST}
