"""Rates per credential (README, Configuration): writes and reads counted apart, in
windows of the rate's period, in Django's cache, which is Redis (shared by every web
process) whenever one is configured. Beyond the rate a call hears 429 E_THROTTLED with
`Retry-After` before its view runs, so it writes nothing. DRF runs this in `initial()`,
after authentication: a call without a credential (dev's anonymous access) is not
counted here."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

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
    """This call's number in its window (atomic in Redis: add, then incr); None when the
    cache does not answer, and the call goes through: a cache outage must not stop
    the API, whose database and size bounds still hold."""
    try:
        cache.add(key, 0, timeout=int(period) + 1)
        try:
            return int(cache.incr(key))
        except ValueError:  # the window's key expired between add and incr
            cache.add(key, 1, timeout=int(period) + 1)
            return 1
    except Exception as exc:  # whatever the cache client raises (connection, timeout)
        logger.warning("event=throttle_cache_unavailable error=%s", type(exc).__name__)
        return None
