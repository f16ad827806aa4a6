"""REST framework's and drf-spectacular's settings: constants, imported by settings.py."""

from __future__ import annotations

from typing import Any

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["controlplane.api.auth.ApiCredentialAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["controlplane.api.auth.HasApiCredential"],
    "DEFAULT_PARSER_CLASSES": ["controlplane.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "controlplane.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["controlplane.api.throttling.CredentialRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Strategy submission control plane",
    "DESCRIPTION": (
        "Accepts strategy submissions and rebalance batches, relayed to a Kafka commit log "
        "in qmtl's record format (docs/API.md in the repository). Every error is "
        "`{code, message}` (and `errors`, every field at fault); each operation lists its "
        "codes per status. A method a path does not offer is 405 E_METHOD_NOT_ALLOWED with "
        "`Allow`; a path the service does not offer is 404 E_NOT_FOUND."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page works offline: its scripts and styles come from the sidecar package,
    # never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
