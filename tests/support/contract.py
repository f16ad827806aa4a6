"""The execution-domain alias words, restated from the contract (docs/API.md) for the
tests, not read from the code under test."""

from __future__ import annotations

ALIASES = {
    **dict.fromkeys(
        ["backtest", "backtesting", "compute", "computeonly", "offline", "sandbox",
         "validate", "validation"],
        "backtest",
    ),
    **dict.fromkeys(
        ["dryrun", "dryrunmode", "paper", "papermode", "papertrade", "papertrading",
         "papertrader", "sim", "simulation", "simulated"],
        "dryrun",
    ),
    **dict.fromkeys(["live", "prod", "production"], "live"),
    "shadow": "shadow",
}  # fmt: skip
