"""How a relay run batches and retries, with its defaults from commitlog.conf."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from commitlog.conf import built_from_settings

# RelayPolicy's fields and the settings they default to.
_POLICY_SETTINGS = {
    "batch_size": "relay_batch_size",
    "max_attempts": "relay_max_attempts",
    "backoff_base_s": "relay_backoff_base_seconds",
    "backoff_max_s": "relay_backoff_max_seconds",
    "run_budget_s": "relay_run_budget_seconds",
}


@dataclass(frozen=True)
class RelayPolicy:
    """How a run batches and retries; values and defaults from commitlog.conf."""

    batch_size: int
    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float
    run_budget_s: float

    @classmethod
    def from_settings(cls, **overrides: Any) -> RelayPolicy:
        return built_from_settings(cls, _POLICY_SETTINGS, overrides)

    def backoff(self, attempts: int) -> timedelta:
        """Exponential in the attempts so far, with jitter so failed rows do not retry in step."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, attempts - 1))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311
