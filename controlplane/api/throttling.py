"""Rates per credential (docs/CONFIGURATION.md): writes and reads counted apart, in
windows of the rate's period, in Django's cache, which is Redis (shared by every web
process) whenever one is configured. Beyond the rate a call hears 429 E_THROTTLED with
`Retry-After` before its view runs, so it writes nothing. DRF runs this in `initial()`,
after authentication: a call without a credential (dev's anonymous access) is not
counted here.

When Redis does not answer, each process counts alone (controlplane.api.local_counts)
against the rate divided by API_THROTTLE_LOCAL_DIVISOR, so the web tier as a whole still
holds about the rate; it says so once per outage (`event=throttle_local_fallback` and
`controlplane_degraded_total`), and asks Redis again after RETRY_SHARED_S.
API_THROTTLE_FAIL_OPEN=true lets calls through instead. The failed authentications per
address (controlplane.api.auth_failures) are counted the same way, by window_count."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from commitlog.telemetry.degraded import Outage
from config.settings.cache import REDIS_BACKEND
from controlplane.api.local_counts import LocalCounts
from controlplane.models import ApiCredential

if TYPE_CHECKING:
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

# While Redis is away, a call asks it again at most this often (the others count locally
# at once instead of each waiting for the cache's timeout).
RETRY_SHARED_S = 5.0
shared_outage = Outage("throttle_local_fallback", during="counting_per_process")
_local = LocalCounts()
_retry_shared_at = 0.0


class CredentialRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        credential = request.auth
        if not isinstance(credential, ApiCredential):
            return True
        kind = "read" if request.method in SAFE_METHODS else "write"
        limits = settings.API_LIMITS
        rate = limits.read_rate if kind == "read" else limits.write_rate
        if rate is None:
            return True
        # By the token's hash, not the row id: databases sharing one Redis (a staging copy,
        # test runs) have the same ids for other credentials.
        counted = window_count(f"throttle:{kind}:{credential.key_hash[:32]}", rate)
        if counted is None:
            return True
        count, limit, wait = counted
        if count <= limit:
            return True
        self._wait = wait
        return False

    def wait(self) -> float | None:
        return self._wait


def window_count(
    key: str, rate: tuple[int, float], *, add: bool = True
) -> tuple[int, int, float] | None:
    """(this call's number in the window of `rate`, the limit that holds for it, seconds
    until the window ends) for `key`; with add=False the number counted so far, counting
    nothing. Counted in Redis, or in this process against the limit divided by
    API_THROTTLE_LOCAL_DIVISOR while Redis does not answer; None then if fail-open."""
    limits = settings.API_LIMITS
    limit, period = rate
    now = time.time()
    window = int(now // period)
    wait = (window + 1) * period - now
    count = _count(f"{key}:{window}", period, add=add)
    if count is None:
        if limits.fail_open:
            return None
        count = _local.count(key, window, add=add)
        limit = max(1, limit // limits.local_divisor)
    return count, limit, wait


def _count(key: str, period: float, *, add: bool = True) -> int | None:
    """This call's number in its window (or the number so far, if not `add`); None when
    the shared counters do not answer."""
    global _retry_shared_at
    if shared_outage.down and time.monotonic() < _retry_shared_at:
        return None
    ttl = int(period) + 1
    try:
        client = _redis_client()
        if client is None:  # a per-process cache: Django's add-then-incr is atomic there
            if not add:
                return int(cache.get(key, 0))
            cache.add(key, 0, timeout=ttl)
            return int(cache.incr(key))
        counter = _redis_key(key)
        if not add:
            count = int(client.get(counter) or 0)
        else:
            # One round trip: start the window's count if it is new, then count this call.
            pipe = client.pipeline(transaction=True)
            pipe.set(counter, 0, ex=ttl, nx=True)
            pipe.incr(counter)
            count = int(pipe.execute()[1])
    except Exception as exc:  # whatever the cache client raises (connection, timeout)
        _retry_shared_at = time.monotonic() + RETRY_SHARED_S
        shared_outage.failed(type(exc).__name__)
        return None
    shared_outage.recovered()
    return count


# One client per process and Redis URL. Django's Redis cache builds a client object for
# every call and needs three round trips for add-then-incr; the throttle runs on every
# API call, so it speaks to the same Redis, under the same key layout, directly.
_clients: dict[str, redis.Redis] = {}


def _redis_client() -> redis.Redis | None:
    configured = settings.CACHES["default"]
    if configured["BACKEND"] != REDIS_BACKEND:
        return None
    url = configured["LOCATION"]
    client = _clients.get(url)
    if client is None:
        options = configured.get("OPTIONS", {})
        client = redis.Redis.from_url(
            url,
            socket_timeout=options.get("socket_timeout"),
            socket_connect_timeout=options.get("socket_connect_timeout"),
        )
        _clients[url] = client
    return client


def _redis_key(key: str) -> str:
    # Django's cache key layout (prefix:version:key), so the counters sit beside the cache's.
    return cache.make_key(key)
