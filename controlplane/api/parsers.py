"""The API's only parser: JSON, bounded in size and depth before anything else looks at it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import JSONParser

from controlplane.domain.json_values import (
    contains_lone_surrogate,
    contains_nul,
    json_depth,
    may_hold_escaped_nul,
    may_hold_escaped_surrogate,
    path_to,
    token_fits_double,
)
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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _TooLarge:
    """Stands for a number beyond a double while parsing, so that its place can be named."""

    def __init__(self, token: str) -> None:
        self.token = token


class _Numbers:
    """The parser's number hooks: a number a double cannot hold becomes a _TooLarge."""

    def __init__(self) -> None:
        self.too_large: list[_TooLarge] = []

    def _refused(self, token: str) -> _TooLarge:
        marker = _TooLarge(token)
        self.too_large.append(marker)
        return marker

    def integer(self, token: str) -> int | _TooLarge:
        return int(token) if len(token) < 300 or token_fits_double(token) else self._refused(token)

    def real(self, token: str) -> float | _TooLarge:
        value = float(token)
        return value if math.isfinite(value) else self._refused(token)

    def check(self, data: Any) -> None:
        if not self.too_large:
            return
        where = path_to(data, self.too_large[0]) or None
        token = self.too_large[0].token
        shown = token if len(token) <= 40 else f"{token[:20]}...({len(token)} characters)"
        message = f"{shown} is beyond a double's range"
        raise exceptions.ValidationError(
            {where or "non_field_errors": [ErrorDetail(message, code=error_codes.NUMBER_TOO_LARGE)]}
        )


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
        numbers = _Numbers()
        try:
            data = json.loads(
                raw.decode("utf-8"),
                parse_constant=_reject_constant,
                parse_int=numbers.integer,
                parse_float=numbers.real,
            )
        except RecursionError:
            raise JsonTooDeep() from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise exceptions.ParseError(f"request body is not JSON: {exc}") from None
        if json_depth(data) > settings.API_MAX_JSON_DEPTH:
            raise JsonTooDeep(f"request body nests deeper than {settings.API_MAX_JSON_DEPTH}")
        numbers.check(data)
        if may_hold_escaped_nul(raw) and contains_nul(data):
            raise NulCharacter()
        if may_hold_escaped_surrogate(raw) and contains_lone_surrogate(data):
            raise LoneSurrogate()
        return data
