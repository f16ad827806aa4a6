"""Tiers by folder: a test's tier is the first folder under tests/ it sits in."""

from __future__ import annotations

from pathlib import Path

import pytest

TIERS = ("unit", "integration", "system")
TESTS = Path(__file__).resolve().parents[1]

# Fixtures that bring a real server into a test: PostgreSQL, the broker, Redis. A unit test
# asking for one is in the wrong folder.
SERVER_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_setup", "live_server", "admin_client", "admin_user",
     "api", "api_token", "kafka_bootstrap", "commitlog", "private_broker", "proxied_broker",
     "celery_broker_url", "celery_queue"}
)  # fmt: skip


def tier_of(path: Path) -> str | None:
    """The tier a test file is in: the first folder under tests/ (unit, integration,
    system), or None when it is in none of them."""
    try:
        parts = path.resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def misplaced(item: pytest.Item, tier: str | None) -> str | None:
    """Why `item` cannot run in its folder's tier, or None."""
    if tier is None:
        return f"{item.nodeid}: a test belongs in tests/unit, tests/integration or tests/system"
    if tier == "unit":
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("django_db") or fixtures & SERVER_FIXTURES:
            return f"{item.nodeid}: a unit test needs no server (move it to tests/integration)"
    return None
