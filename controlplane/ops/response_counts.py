"""API responses counted by status and error code, for /metrics and the 5xx-rate alert.

Each web process counts in memory and adds its counts to the shared counters at most
every METRICS_FLUSH_SECONDS (one upsert), so a request costs a dictionary update, and
/metrics, read from the database, covers every process and host. A process that dies
loses at most that interval's counts.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from commitlog.telemetry.counters import counters_add

logger = logging.getLogger(__name__)

NAME = "api_responses_total"  # label: "<status>:<code>", code empty for a success

_lock = threading.Lock()
_pending: Counter[str] = Counter()
_flushed_at = time.monotonic()


def _code(response: HttpResponse) -> str:
    if response.status_code < 400:
        return ""
    data = getattr(response, "data", None)
    if not isinstance(data, dict) and response.get("Content-Type", "").startswith(
        "application/json"
    ):
        try:
            data = json.loads(response.content[:4096])
        except (ValueError, UnicodeDecodeError):
            data = None
    code = data.get("code") if isinstance(data, dict) else None
    return code if isinstance(code, str) and code.startswith("E_") else ""


def count(response: HttpResponse) -> None:
    global _flushed_at
    with _lock:
        _pending[f"{response.status_code}:{_code(response)}"] += 1
        if time.monotonic() - _flushed_at < settings.METRICS_FLUSH_SECONDS:
            return
        counts = dict(_pending)
        _pending.clear()
        _flushed_at = time.monotonic()
    try:
        counters_add({(NAME, label): n for label, n in counts.items()})
    except DatabaseError as exc:  # the database is away: keep the counts for the next try
        logger.warning("event=response_counts_not_saved error=%s", exc)
        with _lock:
            _pending.update(counts)


class ResponseCountMiddleware:
    """Counts every response but the static files'."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            count(response)
        return response
