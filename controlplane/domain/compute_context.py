"""Compute context of a submission: execution-domain aliases and the safe-mode downgrade.

Pure functions of the request's world ids, `meta` and `context`, computed as qmtl's
gateway computes them (docs/API.md, "Compute context").
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The keys of `meta` (and of the `context` overrides) a context value is read from.
CONTEXT_KEYS: tuple[str, ...] = ("execution_domain", "as_of", "partition", "dataset_fingerprint")
# Read as `a or b` on the raw values before normalizing, as qmtl does.
_DATASET_SPELLINGS = ("dataset_fingerprint", "datasetFingerprint")
# `world_id` is accepted in `context` for the clients that send it, and has no effect: the
# context's world is always the first of the request's world ids, as in qmtl.
ACCEPTED_CONTEXT_KEYS = frozenset({*CONTEXT_KEYS, *_DATASET_SPELLINGS, "world_id"})

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
    """A context value as qmtl normalizes it: a string or number (booleans included) becomes
    its stripped text, blank means absent; an object, a list or null is absent."""
    if isinstance(value, str | int | float):
        return str(value).strip() or None
    return None


def _raw_value(source: Mapping[str, Any], key: str) -> object:
    if key == "dataset_fingerprint":
        # Python truthiness on the raw values: "", 0, false and null give way to the
        # second spelling; "  " does not, and then normalizes to absent.
        return source.get(_DATASET_SPELLINGS[0]) or source.get(_DATASET_SPELLINGS[1])
    return source.get(key)


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
        """The `compute_context` object of the ingest record, keys in qmtl's order
        (downgrade keys only if downgraded)."""
        payload: dict[str, Any] = {
            "execution_domain": self.execution_domain,
            "as_of": self.as_of,
            "partition": self.partition,
            "dataset_fingerprint": self.dataset_fingerprint,
            "world_id": self.world_id,
        }
        if self.downgrade_reason is not None:
            payload["downgraded"] = True
            payload["downgrade_reason"] = self.downgrade_reason.value
            payload["safe_mode"] = True
        return payload


def build_compute_context(
    *,
    world_ids: Sequence[str],
    meta: Mapping[str, Any] | None,
    overrides: Mapping[str, Any] | None = None,
) -> ComputeContext:
    """The context qmtl's gateway computes with no WorldService: the first world id, the
    values of `meta`, then the safe-mode rules. Non-absent `overrides` (the request's
    `context`, an extension of ours) take the place of the values from `meta`."""
    values: dict[str, str | None] = {}
    for key in CONTEXT_KEYS:
        override = clean_value(_raw_value(overrides, key)) if overrides else None
        from_meta = clean_value(_raw_value(meta, key)) if meta else None
        values[key] = override if override is not None else from_meta

    domain = normalize_execution_domain(values["execution_domain"])
    reason: DowngradeReason | None = None
    if domain is None or domain == "default":
        domain, reason = "backtest", DowngradeReason.DECISION_UNAVAILABLE
    elif domain in ("backtest", "dryrun") and values["as_of"] is None:
        domain, reason = "backtest", DowngradeReason.MISSING_AS_OF

    return ComputeContext(
        world_id=world_ids[0] if world_ids else None,
        execution_domain=domain,
        as_of=values["as_of"],
        partition=values["partition"],
        dataset_fingerprint=values["dataset_fingerprint"],
        downgrade_reason=reason,
    )
