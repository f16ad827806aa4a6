"""Liveness, readiness and qmtl's health answer."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from commitlog.telemetry.broker_health import commitlog_broker_ok


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


def _broker_state() -> str:
    broker = commitlog_broker_ok()
    return "disabled" if broker is None else ("ok" if broker else "unavailable")


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take writes: the database answers and, when configured, the Kafka broker."""
    database = _database_ok()
    broker = _broker_state()
    checks = {"database": "ok" if database else "unavailable", "commitlog_broker": broker}
    ready = database and broker != "unavailable"
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


def health(request: HttpRequest) -> JsonResponse:
    """qmtl's gateway health answer: always 200 with a non-empty object, since qmtl's SDK
    takes an empty or failed answer for "gateway unavailable" and stops submitting.
    `degraded` when the database or a configured broker does not answer.
    """
    database = "ok" if _database_ok() else "unavailable"
    kafka = _broker_state()
    degraded = database != "ok" or kafka == "unavailable"
    # qmtl's capability fields, at the top level and under `capabilities` as its gateway
    # writes them: rebalance records of schema version 1, no alpha-metrics endpoints.
    capabilities = {"rebalance_schema_version": 1, "alpha_metrics_capable": False}
    return JsonResponse(
        {
            "status": "degraded" if degraded else "ok",
            "postgres": database,
            "kafka": kafka,
            **capabilities,
            "capabilities": capabilities,
        }
    )
