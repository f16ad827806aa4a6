"""The API's only parser: JSON, bounded in size and depth before anything else looks at it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import JSONParser

from controlplane.domain.json_bounds import JsonBoundError, bounded_loads
from controlplane.domain.json_values import path_to
from controlplane.errors import codes as error_codes


class PayloadTooLarge(exceptions.APIException):
    default_detail = "request body is too large"
    default_code = error_codes.PAYLOAD_TOO_LARGE
    status_code = error_codes.status_of(default_code)


class JsonTooDeep(exceptions.APIException):
    default_detail = "request body is nested too deeply"
    default_code = error_codes.JSON_TOO_DEEP
    status_code = error_codes.status_of(default_code)


class NulCharacter(exceptions.APIException):
    default_detail = "NUL characters (\\u0000) are not allowed in the request"
    default_code = error_codes.INVALID_REQUEST
    status_code = error_codes.status_of(default_code)


class LoneSurrogate(exceptions.APIException):
    default_detail = "lone surrogates (\\ud800-\\udfff escapes) are not valid Unicode"
    default_code = error_codes.INVALID_REQUEST
    status_code = error_codes.status_of(default_code)


class _TooLarge:
    """Stands for a number beyond a double while parsing, so that its place can be named."""

    def __init__(self, token: str) -> None:
        self.token = token


def _refuse_too_large(data: Any, markers: list[_TooLarge]) -> None:
    where = path_to(data, markers[0]) or None
    token = markers[0].token
    shown = token if len(token) <= 40 else f"{token[:20]}...({len(token)} characters)"
    message = f"{shown} is beyond a double's range"
    raise exceptions.ValidationError(
        {where or "non_field_errors": [ErrorDetail(message, code=error_codes.NUMBER_TOO_LARGE)]}
    )


# What each bound of json_bounds is called in the API's answer.
_BOUND_ERRORS: dict[str, type[exceptions.APIException]] = {
    "depth": JsonTooDeep,
    "nul": NulCharacter,
    "surrogate": LoneSurrogate,
}


class BoundedJSONParser(JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit: int = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"request body is over {limit} bytes")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"request body is over {limit} bytes")
        markers: list[_TooLarge] = []

        def too_large(token: str) -> _TooLarge:
            markers.append(_TooLarge(token))
            return markers[-1]

        depth: int = settings.API_MAX_JSON_DEPTH
        try:
            data = bounded_loads(raw.decode("utf-8"), max_depth=depth, too_large=too_large)
        except JsonBoundError as exc:
            error = _BOUND_ERRORS.get(exc.kind)
            if error is None:
                raise exceptions.ParseError(f"request body is not JSON: {exc}") from None
            raise error(f"request body {exc}" if exc.kind == "depth" else None) from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise exceptions.ParseError(f"request body is not JSON: {exc}") from None
        if markers:
            _refuse_too_large(data, markers)
        return data
