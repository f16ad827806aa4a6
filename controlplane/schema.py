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
