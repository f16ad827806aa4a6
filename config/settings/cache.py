"""Django's cache, which holds the throttle's counters (controlplane.api.throttling): Redis,
shared by every web process, at CACHE_URL or else at the Celery broker when that is Redis;
`memory` (or a broker that is not Redis) counts in each process on its own."""

from __future__ import annotations

from typing import Any

from config.env import EnvReader

_REDIS = ("redis://", "rediss://")
REDIS_BACKEND = "django.core.cache.backends.redis.RedisCache"


def cache_settings(read: EnvReader, celery_broker_url: str) -> dict[str, Any]:
    url = read.text("CACHE_URL", "")
    if not url and celery_broker_url.startswith(_REDIS):
        url = celery_broker_url
    if url.startswith(_REDIS):
        return {
            "default": {
                "BACKEND": REDIS_BACKEND,
                "LOCATION": url,
                "KEY_PREFIX": read.text("CACHE_KEY_PREFIX", "controlplane"),
                # A cache that does not answer must not hold a request (the throttle
                # lets it by).
                "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
            }
        }
    if url not in ("", "memory"):
        read.problem(f"CACHE_URL={url!r} is not a redis:// URL or memory")
    return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
