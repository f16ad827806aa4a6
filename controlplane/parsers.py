"""The API's only parser: JSON, bounded in size and depth before anything else looks at it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from controlplane import error_codes
from controlplane.jsonutil import (
    contains_lone_surrogate,
    contains_nul,
    json_depth,
    may_hold_escaped_nul,
    may_hold_escaped_surrogate,
)


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
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except RecursionError:
            raise JsonTooDeep() from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise exceptions.ParseError(f"request body is not JSON: {exc}") from None
        if json_depth(data) > settings.API_MAX_JSON_DEPTH:
            raise JsonTooDeep(f"request body nests deeper than {settings.API_MAX_JSON_DEPTH}")
        if may_hold_escaped_nul(raw) and contains_nul(data):
            raise NulCharacter()
        if may_hold_escaped_surrogate(raw) and contains_lone_surrogate(data):
            raise LoneSurrogate()
        return data
