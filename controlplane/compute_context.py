"""Compute context of a submission: execution-domain aliases and the safe-mode downgrade.

Pure functions of the request's `meta` and `context`; SPEC section 3 is the contract.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CONTEXT_KEYS: tuple[str, ...] = (
    "world_id",
    "execution_domain",
    "as_of",
    "partition",
    "dataset_fingerprint",
)
# Spellings accepted for a key, in order of precedence.
_KEY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "world_id": ("world_id",),
    "execution_domain": ("execution_domain",),
    "as_of": ("as_of",),
    "partition": ("partition",),
    "dataset_fingerprint": ("dataset_fingerprint", "datasetFingerprint"),
}
ACCEPTED_CONTEXT_KEYS = frozenset(s for spellings in _KEY_SPELLINGS.values() for s in spellings)

_DOMAIN_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "backtest",
            "backtesting",
            "compute",
            "computeonly",
            "offline",
            "sandbox",
            "validate",
            "validation",
        ),
        "backtest",
    ),
    **dict.fromkeys(
        (
            "dryrun",
            "dryrunmode",
            "paper",
            "papermode",
            "papertrade",
            "papertrading",
            "papertrader",
            "sim",
            "simulation",
            "simulated",
        ),
        "dryrun",
    ),
    **dict.fromkeys(("live", "prod", "production"), "live"),
    "shadow": "shadow",
}
_SEGMENT_SEPARATORS = re.compile(r"[/:]")
_IGNORED_CHARS = re.compile(r"[\s\-_]")


class DowngradeReason(enum.StrEnum):
    MISSING_AS_OF = "missing_as_of"
    STALE_DECISION = "stale_decision"
    DECISION_UNAVAILABLE = "decision_unavailable"


def _alias_key(text: str) -> str:
    return _IGNORED_CHARS.sub("", text).lower()


def normalize_execution_domain(value: str | None) -> str | None:
    """Map a domain spelling to its canonical name; unknown names are kept, lower-cased.

    The whole value is tried first, then each `/`- or `:`-separated segment in order,
    so `"Paper-Trading"` and `"broker:paper"` both mean `dryrun`.
    """
    text = clean_value(value)
    if text is None:
        return None
    candidates = [text, *_SEGMENT_SEPARATORS.split(text)]
    for candidate in candidates:
        canonical = _DOMAIN_ALIASES.get(_alias_key(candidate))
        if canonical is not None:
            return canonical
    return text.lower()


def clean_value(value: object) -> str | None:
    """A context value as a stripped string; blank (or null) means absent."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else str(value).strip()
    return text or None


def _pick(source: Mapping[str, Any], key: str) -> str | None:
    for spelling in _KEY_SPELLINGS[key]:
        found = clean_value(source.get(spelling))
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class ComputeContext:
    world_id: str | None
    execution_domain: str | None
    as_of: str | None
    partition: str | None
    dataset_fingerprint: str | None
    downgrade_reason: DowngradeReason | None = None

    @property
    def downgraded(self) -> bool:
        return self.downgrade_reason is not None

    @property
    def safe_mode(self) -> bool:
        return self.downgrade_reason is not None

    def as_payload(self) -> dict[str, Any]:
        """The `compute_context` object of the ingest record (downgrade keys only if downgraded)."""
        payload: dict[str, Any] = {
            "world_id": self.world_id,
            "execution_domain": self.execution_domain,
            "as_of": self.as_of,
            "partition": self.partition,
            "dataset_fingerprint": self.dataset_fingerprint,
        }
        if self.downgrade_reason is not None:
            payload["downgraded"] = True
            payload["downgrade_reason"] = self.downgrade_reason.value
            payload["safe_mode"] = True
        return payload


def build_compute_context(
    meta: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None
) -> ComputeContext:
    """Values from `meta`, overridden by non-blank `overrides`, then safe-mode rules."""
    values: dict[str, str | None] = {}
    for key in CONTEXT_KEYS:
        override = _pick(overrides, key) if overrides else None
        values[key] = override if override is not None else (_pick(meta, key) if meta else None)

    domain = normalize_execution_domain(values["execution_domain"])
    reason: DowngradeReason | None = None
    if domain is None or domain == "default":
        domain, reason = "backtest", DowngradeReason.DECISION_UNAVAILABLE
    elif domain in ("backtest", "dryrun") and values["as_of"] is None:
        domain, reason = "backtest", DowngradeReason.MISSING_AS_OF

    return ComputeContext(
        world_id=values["world_id"],
        execution_domain=domain,
        as_of=values["as_of"],
        partition=values["partition"],
        dataset_fingerprint=values["dataset_fingerprint"],
        downgrade_reason=reason,
    )
