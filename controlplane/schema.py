"""OpenAPI pieces the views share: the bearer credential scheme (imported in
AppConfig.ready) and the Idempotency-Key header."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter


class ApiCredentialScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "controlplane.auth.ApiCredentialAuthentication"
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
