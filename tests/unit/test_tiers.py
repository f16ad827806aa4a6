"""The tier of a test comes from its folder; a test in none of them cannot be collected."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.tiers import TESTS, misplaced, tier_of


@pytest.mark.parametrize("tier", ["unit", "integration", "system"])
def test_a_tier_folder_gives_its_tier_to_the_tests_under_it(tier: str) -> None:
    assert tier_of(TESTS / tier / "commitlog" / "test_x.py") == tier
    assert tier_of(TESTS / tier / "test_x.py") == tier


@pytest.mark.parametrize(
    "path", [TESTS / "test_x.py", TESTS / "support" / "test_x.py", TESTS.parent / "test_x.py"]
)
def test_a_test_outside_the_tier_folders_has_no_tier_and_is_refused(path: Any) -> None:
    assert tier_of(path) is None
    item: Any = SimpleNamespace(nodeid="tests/test_x.py::test_y", fixturenames=[])
    item.get_closest_marker = lambda name: None
    assert misplaced(item, None)


def test_a_unit_test_asking_for_a_server_is_refused() -> None:
    item: Any = SimpleNamespace(nodeid="tests/unit/test_x.py::test_y", fixturenames=["db"])
    item.get_closest_marker = lambda name: None
    assert misplaced(item, "unit")
    assert misplaced(item, "integration") is None


def test_this_module_is_collected_in_the_unit_tier(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("unit") is not None
    assert request.node.get_closest_marker("integration") is None
