"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.request import Request
from rest_framework.views import APIView

from commitlog.health import commitlog_broker_ok
from controlplane.metrics import render_metrics


def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked."""
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take writes: the database answers and, when configured, the Kafka broker."""
    database = _database_ok()
    broker = commitlog_broker_ok()
    checks = {
        "database": "ok" if database else "unavailable",
        "commitlog_broker": "disabled" if broker is None else ("ok" if broker else "unavailable"),
    }
    ready = database and broker is not False
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


class MetricsView(APIView):
    """Prometheus text format; urls.py requires an API credential (or a staff session)."""

    schema = None  # not part of the REST API's OpenAPI description

    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
