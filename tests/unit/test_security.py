"""Security checks (issue 7): every route the URL resolver knows is protected, prod refuses
to start without a secret key, the body and depth limits hold on every write route. (The
SQL rule has its own module, test_sql_text.py.)

The routes come from `get_resolver()`, not from a list in this file: a new route that
answers without a credential (API) or a staff login (admin) fails these tests.
"""

from __future__ import annotations

import pytest
from django.urls import resolve

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
