"""Rates per credential (docs/CONFIGURATION.md): writes and reads counted apart, in
windows of the rate's period, in Django's cache, which is Redis (shared by every web
process) whenever one is configured. Beyond the rate a call hears 429 E_THROTTLED with
`Retry-After` before its view runs, so it writes nothing. DRF runs this in `initial()`,
after authentication: a call without a credential (dev's anonymous access) is not
counted here."""

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

from config.settings.cache import REDIS_BACKEND
from controlplane.models import ApiCredential

if TYPE_CHECKING:
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


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
        limit, period = rate
        now = time.time()
        window = int(now // period)
        # By the token's hash, not the row id: databases sharing one Redis (a staging copy,
        # test runs) have the same ids for other credentials.
        count = _count(f"throttle:{kind}:{credential.key_hash[:32]}:{window}", period)
        if count is None or count <= limit:
            return True
        self._wait = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self._wait


def _count(key: str, period: float) -> int | None:
    """This call's number in its window; None when the counters do not answer, and the
    call goes through: a counter outage must not stop the API, whose database and size
    bounds still hold."""
    ttl = int(period) + 1
    try:
        client = _redis_client()
        if client is None:  # a per-process cache: Django's add-then-incr is atomic there
            cache.add(key, 0, timeout=ttl)
            return int(cache.incr(key))
        # One round trip: start the window's count if it is new, then count this call.
        counter = _redis_key(key)
        pipe = client.pipeline(transaction=True)
        pipe.set(counter, 0, ex=ttl, nx=True)
        pipe.incr(counter)
        return int(pipe.execute()[1])
    except Exception as exc:  # whatever the cache client raises (connection, timeout)
        logger.warning("event=throttle_cache_unavailable error=%s", type(exc).__name__)
        return None


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
