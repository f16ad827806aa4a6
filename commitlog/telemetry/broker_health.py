"""Is the commit-log broker reachable? Cached briefly so probes do not hammer it."""

from __future__ import annotations

import time

from commitlog.conf import commitlog_settings
from commitlog.kafka import broker_reachable

_CACHE_SECONDS = 5.0
_last: tuple[float, str, bool] | None = None


def commitlog_broker_ok() -> bool | None:
    """True/False for a configured broker, None when publishing is disabled (dev)."""
    global _last
    gateway = commitlog_settings()
    if not gateway.writer_enabled:
        return None
    now = time.monotonic()
    if (
        _last is not None
        and _last[1] == gateway.commitlog_bootstrap
        and now - _last[0] < _CACHE_SECONDS
    ):
        return _last[2]
    ok = broker_reachable(
        gateway.commitlog_bootstrap,
        timeout_s=2.0,
        client_config=commitlog_settings().commitlog_client_config,
    )
    _last = (now, gateway.commitlog_bootstrap, ok)
    return ok
