"""One place where errors become HTTP responses: `{"code": "E_...", "message": "..."}`."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from commitlog.outbox.write import RecordTooLarge
from controlplane.errors import ApplicationError
from controlplane.errors import codes as error_codes

logger = logging.getLogger(__name__)

_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: error_codes.MALFORMED_JSON,
    exceptions.NotAuthenticated: error_codes.UNAUTHENTICATED,
    exceptions.AuthenticationFailed: error_codes.UNAUTHENTICATED,
    exceptions.PermissionDenied: error_codes.FORBIDDEN,
    exceptions.NotFound: error_codes.NOT_FOUND,
    exceptions.MethodNotAllowed: error_codes.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: error_codes.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: error_codes.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: error_codes.THROTTLED,
    exceptions.ValidationError: error_codes.INVALID_REQUEST,
}


def _first_message(detail: Any) -> str:
    """A readable one-liner out of DRF's nested error details."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _first_message(value)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
        return "invalid request"
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "invalid request"
    return str(detail)


def _field_code(code: object) -> str:
    text = code if isinstance(code, str) and code else "invalid"
    return text if text.startswith("E_") else f"E_{text.upper()}"


def field_errors(detail: Any, field: str = "") -> list[dict[str, Any]]:
    """Every error in DRF's nested details, as `{field, code, message}`: `field` is the
    path to it (`orders[0].symbol`), None for an error of the whole request."""
    if isinstance(detail, dict):
        found: list[dict[str, Any]] = []
        for key, value in detail.items():
            if key == "non_field_errors":
                name = field
            elif isinstance(key, int) or str(key).isdigit():
                name = f"{field}[{key}]"
            else:
                name = f"{field}.{key}" if field else str(key)
            found += field_errors(value, name)
        return found
    if isinstance(detail, list):
        found = []
        for index, item in enumerate(detail):
            nested = isinstance(item, dict | list)
            found += field_errors(item, f"{field}[{index}]" if nested else field)
        return found
    code = getattr(detail, "code", None)
    return [{"field": field or None, "code": _field_code(code), "message": str(detail)}]


def _code_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        # A serializer may raise a specific code (E_WORLD_ID_DEPRECATED...).
        codes = exc.get_codes()
        while isinstance(codes, dict | list) and codes:
            codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
        if isinstance(codes, str) and codes in error_codes.CODES:
            return codes
    for exc_type, code in _DRF_CODES.items():
        if isinstance(exc, exc_type):
            return code
    default = exc.default_code
    return default if default in error_codes.CODES else error_codes.INTERNAL


def _log_refusal(response: Response, context: dict[str, Any]) -> Response:
    """One line per refused request: what was refused, why, and for whom."""
    request = context.get("request")
    # `_auth` is there once authentication has run; `request.auth` would run it again, and
    # when the refusal is that the database is away, that would raise inside this handler.
    credential = getattr(getattr(request, "_auth", None), "name", None)
    logger.info(
        "event=request_refused method=%s path=%s status=%d code=%s credential=%s",
        getattr(request, "method", "-"),
        getattr(request, "path", "-"),
        response.status_code,
        (response.data or {}).get("code", "-"),
        credential or "-",
    )
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = _answer(exc, context)
    return _log_refusal(response, context) if response is not None else None


def _answer(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is away (restart, failover): nothing was written; try again shortly.
        logger.warning("event=database_unavailable view=%s error=%s", context.get("view"), exc)
        return Response(
            {
                "code": error_codes.UNAVAILABLE,
                "message": "the database is unavailable; retry shortly",
            },
            status=error_codes.status_of(error_codes.UNAVAILABLE),
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, RequestDataTooBig):
        # Django's own cap (DATA_UPLOAD_MAX_MEMORY_SIZE) tripped while DRF read the body.
        return Response(
            {"code": error_codes.PAYLOAD_TOO_LARGE, "message": "request body is too large"},
            status=error_codes.status_of(error_codes.PAYLOAD_TOO_LARGE),
        )
    if isinstance(exc, RecordTooLarge):  # the commit log's limit, raised before any write
        set_rollback()
        return Response(
            {"code": error_codes.RECORD_TOO_LARGE, "message": str(exc)},
            status=error_codes.status_of(error_codes.RECORD_TOO_LARGE),
        )
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(exc.as_body(), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if not isinstance(exc, exceptions.APIException):
        return None  # a 500: logged by Django, the transaction rolls back with the request
    set_rollback()
    code = _code_for(exc)
    headers: dict[str, str] = {}
    if code == error_codes.THROTTLED:
        headers["Retry-After"] = str(max(1, math.ceil(getattr(exc, "wait", None) or 1)))
    if code == error_codes.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = 'Bearer realm="controlplane"'
    body: dict[str, Any] = {"code": code, "message": _first_message(exc.detail)}
    if isinstance(exc, exceptions.ValidationError):
        body["errors"] = field_errors(exc.detail)
    return Response(body, status=error_codes.status_of(code), headers=headers)
