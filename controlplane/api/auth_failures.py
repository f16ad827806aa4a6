"""Failed authentications counted per client address, so that guessing tokens costs the
database nothing beyond API_AUTH_FAILURE_RATE (docs/CONFIGURATION.md).

A token of the wrong shape is refused without a lookup and counted. A well-formed token
that matches no active credential is counted after its lookup. Once an address has failed
the rate's number of times in the rate's window, its calls hear 429 E_THROTTLED with
`Retry-After` before any lookup, until the window ends. The counts are the throttle's
(controlplane.api.throttling.window_count): in Redis, or per process while it is away.

The address is REMOTE_ADDR; behind the proxy (DJANGO_TRUSTED_PROXY), the X-Forwarded-For
that nginx sets to the client's own address, replacing whatever the client sent.
"""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework import exceptions
from rest_framework.request import Request

from controlplane.api.throttling import window_count

logger = logging.getLogger(__name__)

ADDRESS_CHARS = 64  # an IPv6 address with a zone fits; a counter key stays short


def client_address(request: Request) -> str:
    meta = request.META
    if settings.TRUSTED_PROXY:
        # nginx sets the header to $remote_addr rather than appending to it; were another
        # proxy to append, the last address is still the one the trusted proxy saw.
        forwarded = str(meta.get("HTTP_X_FORWARDED_FOR", "")).rpartition(",")[2].strip()
        if forwarded:
            return forwarded[:ADDRESS_CHARS]
    return str(meta.get("REMOTE_ADDR", ""))[:ADDRESS_CHARS]


class FailureGate:
    """The failure count of one call's address: `check` before a lookup, `failed` after
    a refusal; either raises Throttled once the address is over its rate."""

    def __init__(self, request: Request) -> None:
        self.address = client_address(request)
        self._key = f"authfail:{self.address}"

    def check(self) -> None:
        rate = settings.API_LIMITS.auth_failure_rate
        if rate is None:
            return
        counted = window_count(self._key, rate, add=False)
        if counted is not None and counted[0] >= counted[1]:
            raise exceptions.Throttled(wait=counted[2])

    def failed(self) -> None:
        rate = settings.API_LIMITS.auth_failure_rate
        if rate is None:
            return
        counted = window_count(self._key, rate)
        if counted is None:
            return
        count, limit, wait = counted
        if count == limit:  # once per window and address
            logger.warning(
                "event=api_auth_failures_throttled address=%s failures=%d retry_after_s=%.0f",
                self.address,
                count,
                wait,
            )
        if count > limit:
            raise exceptions.Throttled(wait=wait)
