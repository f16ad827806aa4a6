"""Serializer fields that refuse type coercion: `"5"` is not an integer, `1` is not `true`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from controlplane.domain.identifiers import unsafe_character, unsafe_message
from controlplane.domain.json_bounds import has_lone_surrogate
from controlplane.errors import InvalidIdentifier


class _SurrogateCheck(ProhibitSurrogateCharactersValidator):
    """DRF's check, run only when the text has a surrogate.

    DRF's own walks the text in Python, a character at a time: 1.2 ms for a 10 KB
    `dag_json`, the most expensive step of a submission; json_bounds' test runs in C.
    """

    def __call__(self, value: Any) -> None:
        if has_lone_surrogate(str(value)):
            super().__call__(value)


class StrictCharField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            _SurrogateCheck() if isinstance(v, ProhibitSurrogateCharactersValidator) else v
            for v in self.validators
        ]

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdentifierField(StrictCharField):
    """An id: a string without control or format characters (controlplane.domain.identifiers)."""

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if (char := unsafe_character(text)) is not None:
            message = unsafe_message(self.field_name or "the id", char)
            raise serializers.ValidationError(ErrorDetail(message, code=InvalidIdentifier.code))
        return text


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StringOrObjectField(StrictCharField):
    """A string (as StrictCharField takes it) or a JSON object, passed on as parsed: the
    body parser has already held the object to the body's bounds."""

    default_error_messages = {"invalid": "Not a string or a JSON object."}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            return data
        return super().to_internal_value(data)
