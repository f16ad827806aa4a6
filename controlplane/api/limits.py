"""The API's bounds per request and per credential, read once at start-up into
settings.API_LIMITS (docs/CONFIGURATION.md). Free of Django, like config.yaml_file."""

from __future__ import annotations

from dataclasses import dataclass

from config.env import EnvReader
from controlplane.domain.request_caps import CAP_VARIABLES

Rate = tuple[int, float]  # calls per period of that many seconds


@dataclass(frozen=True)
class ApiLimits:
    # Caps per request, beyond which 422 E_TOO_MANY_ITEMS (domain.request_caps).
    max_worlds: int
    max_batches: int
    max_orders: int
    max_strategies_per_batch: int
    # Calls per credential (controlplane.api.throttling); None counts nothing.
    write_rate: Rate | None
    read_rate: Rate | None
    # While the shared counters do not answer: each process counts alone against the rate
    # divided by this (the number of web processes), unless fail_open lets every call by.
    local_divisor: int = 1
    fail_open: bool = False
    # Failed authentications per client address (controlplane.api.auth_failures).
    auth_failure_rate: Rate | None = None


_CAP_DEFAULTS = {"max_worlds": 100, "max_batches": 100, "max_orders": 10_000,
                 "max_strategies_per_batch": 1_000}  # fmt: skip


def read_api_limits(read: EnvReader) -> ApiLimits:
    caps = {
        field: read.integer(variable, _CAP_DEFAULTS[field], minimum=1)
        for field, variable in CAP_VARIABLES.items()
    }
    return ApiLimits(
        **caps,
        write_rate=read.rate("API_THROTTLE_WRITE_RATE", "120/min"),
        read_rate=read.rate("API_THROTTLE_READ_RATE", "1200/min"),
        # compose's `web` runs four gunicorn workers.
        local_divisor=read.integer("API_THROTTLE_LOCAL_DIVISOR", 4, minimum=1),
        fail_open=read.flag("API_THROTTLE_FAIL_OPEN", False),
        auth_failure_rate=read.rate("API_AUTH_FAILURE_RATE", "30/min"),
    )
