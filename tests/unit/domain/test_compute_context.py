"""Execution-domain aliases and the safe-mode downgrade (pure code, no server)."""

from __future__ import annotations

import pytest

from controlplane.domain.compute_context import (
    DowngradeReason,
    build_compute_context,
    normalize_execution_domain,
)

BACKTEST = ["backtest", "backtesting", "compute", "computeonly", "offline", "sandbox"]
BACKTEST += ["validate", "validation"]
DRYRUN = ["dryrun", "dryrunmode", "paper", "papermode", "papertrade", "papertrading"]
DRYRUN += ["papertrader", "sim", "simulation", "simulated"]
LIVE = ["live", "prod", "production"]


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [(s, "backtest") for s in BACKTEST]
    + [(s, "dryrun") for s in DRYRUN]
    + [(s, "live") for s in LIVE]
    + [("shadow", "shadow")],
)
def test_every_alias_maps_to_its_domain(spelling: str, canonical: str) -> None:
    assert normalize_execution_domain(spelling) == canonical


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("Paper-Trading", "dryrun"),
        ("  DRY_RUN  ", "dryrun"),
        ("Compute Only", "backtest"),
        ("dry-run-mode", "dryrun"),
        ("broker:paper", "dryrun"),
        ("acme/Production", "live"),
        ("x/y:Shadow", "shadow"),
    ],
)
def test_aliases_ignore_case_spaces_dashes_underscores_and_match_segments(
    spelling: str, canonical: str
) -> None:
    assert normalize_execution_domain(spelling) == canonical


def test_unknown_domain_is_kept_lower_cased() -> None:
    assert normalize_execution_domain("  Canary-EU ") == "canary-eu"


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_domain_is_absent(blank: str | None) -> None:
    assert normalize_execution_domain(blank) is None


@pytest.mark.parametrize("domain", [None, "", "  ", "default", "DEFAULT"])
def test_missing_or_default_domain_downgrades_decision_unavailable(domain: str | None) -> None:
    meta = {"as_of": "2025-01-01"} if domain is None else {"execution_domain": domain}
    ctx = build_compute_context(world_ids=["w"], meta=meta)
    assert ctx.execution_domain == "backtest"
    assert ctx.downgrade_reason is DowngradeReason.DECISION_UNAVAILABLE
    payload = ctx.as_payload()
    assert payload["downgraded"] is True
    assert payload["downgrade_reason"] == "decision_unavailable"
    assert payload["safe_mode"] is True


@pytest.mark.parametrize("domain", ["backtest", "validate", "paper", "dryrun", "sim"])
def test_backtest_or_dryrun_without_as_of_downgrades_missing_as_of(domain: str) -> None:
    ctx = build_compute_context(world_ids=["w"], meta={"execution_domain": domain})
    assert ctx.execution_domain == "backtest"
    assert ctx.as_payload()["downgrade_reason"] == "missing_as_of"
    assert ctx.safe_mode is True


@pytest.mark.parametrize("domain", ["live", "shadow", "canary"])
def test_other_domains_are_not_downgraded_without_as_of(domain: str) -> None:
    ctx = build_compute_context(world_ids=["w"], meta={"execution_domain": domain})
    assert not ctx.downgraded
    assert "downgraded" not in ctx.as_payload()
