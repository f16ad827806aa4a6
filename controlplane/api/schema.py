"""OpenAPI pieces the views share: the bearer credential scheme (imported in
AppConfig.ready), the Idempotency-Key header, the shapes of orders and context, and each
operation's error answers (from controlplane.errors.codes)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from controlplane.domain.compute_context import ACCEPTED_CONTEXT_KEYS
from controlplane.errors import codes as error_codes


class ApiCredentialScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "controlplane.api.auth.ApiCredentialAuthentication"
    name = "ApiCredential"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token an operator issues in the admin (API credentials).",
        }


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description=(
        "Any string of 1 to 255 printable characters chosen by the client. A retry with the "
        "same key and the same body is answered as the first request was (with "
        "`Idempotent-Replayed: true`) and writes nothing; the same key with another body is "
        "refused with 422 E_IDEMPOTENCY_KEY_REUSED. Keys are kept per credential for at "
        "least 24 hours."
    ),
)


ORDER = {
    "type": "object",
    "description": (
        "An order, stored and written to the record exactly as given: a non-empty `symbol` "
        "and a finite quantity under `quantity`, `qty` or `delta_qty` (the first present "
        "counts); `reduce_only` absent means false. Other keys are kept."
    ),
    "required": ["symbol"],
    "properties": {
        "symbol": {"type": "string", "minLength": 1},
        "quantity": {"type": "number"},
        "qty": {"type": "number"},
        "delta_qty": {"type": "number"},
        "reduce_only": {"type": "boolean"},
    },
    "anyOf": [{"required": [key]} for key in ("quantity", "qty", "delta_qty")],
    "additionalProperties": True,
}
STRATEGY_ENTRY = {
    "type": "object",
    "description": "A per_strategy order with its world and strategy, kept as given.",
    "required": ["world_id", "strategy_id", "order"],
    "properties": {
        "world_id": {"type": "string", "minLength": 1},
        "strategy_id": {"type": "string", "minLength": 1},
        "order": ORDER,
    },
    "additionalProperties": True,
}

DAG_JSON = {
    "description": (
        "The DAG: a JSON object, or a string holding its JSON text or base64 of that text."
    ),
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "required": ["nodes"],
            "properties": {
                "nodes": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["node_id"],
                        "properties": {"node_id": {"type": "string", "minLength": 1}},
                        "additionalProperties": True,
                    },
                }
            },
            "additionalProperties": True,
        },
    ],
}

_CONTEXT_VALUE = {"description": "A string or a number; any other value counts as absent."}

META = {
    "type": "object",
    "nullable": True,
    "description": (
        "Free-form, stored as given. The compute context is read from the keys listed; "
        "the first non-blank string of `version`, `strategy_version` or `build_version` "
        "is the version of the DAG's sentinel node."
    ),
    "properties": {key: _CONTEXT_VALUE for key in sorted(ACCEPTED_CONTEXT_KEYS - {"world_id"})},
    "additionalProperties": True,
}

CONTEXT = {
    "type": "object",
    "nullable": True,
    "description": (
        "Overrides of the compute context read from `meta`; any other key is "
        "422 E_INVALID_CONTEXT. `world_id` is accepted and has no effect."
    ),
    "properties": {key: _CONTEXT_VALUE for key in sorted(ACCEPTED_CONTEXT_KEYS)},
    "additionalProperties": False,
}

FIELD_ERROR = {
    "type": "object",
    "required": ["field", "code", "message"],
    "properties": {
        "field": {
            "type": "string",
            "nullable": True,
            "description": "Path to the value at fault (`orders[0].symbol`), null for the "
            "whole request.",
        },
        "code": {"type": "string", "pattern": "^E_[A-Z0-9_]+$"},
        "message": {"type": "string"},
    },
    "additionalProperties": False,
}


def _error_body(codes: list[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "code": {"type": "string", "enum": codes},
        "message": {"type": "string", "minLength": 1},
        "errors": {"type": "array", "items": FIELD_ERROR, "description": "Every field at fault."},
    }
    if error_codes.DUPLICATE in codes:
        properties["strategy_id"] = {
            "type": "string",
            "format": "uuid",
            "description": "With E_DUPLICATE: the strategy already submitted, when the "
            "credential may see it.",
        }
    return {
        "type": "object",
        "required": ["code", "message"],
        "properties": properties,
        "additionalProperties": False,
    }


def error_responses(operation_id: str) -> dict[int, OpenApiResponse]:
    """The operation's error answers, per status, each with the enum of its codes."""
    return {
        status: OpenApiResponse(
            response=_error_body([entry.code for entry in entries]),
            description="\n".join(f"- `{entry.code}`: {entry.meaning}" for entry in entries),
        )
        for status, entries in error_codes.answers_of(operation_id).items()
    }
