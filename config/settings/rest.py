"""REST framework's and drf-spectacular's settings: constants, imported by settings.py."""

from __future__ import annotations

from typing import Any

REST_FRAMEWORK: dict[str, Any] = {
    # A token first; then, for "Try it out" on /api/docs only, an operator's admin session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "controlplane.api.auth.ApiCredentialAuthentication",
        "controlplane.api.docs_session.DocsSessionAuthentication",
    ],
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
        "codes per status. A method that a path does not offer is 405 E_METHOD_NOT_ALLOWED with "
        "`Allow`; a path the service does not offer is 404 E_NOT_FOUND.\n\n"
        "**Try it out**: logged in to the admin as an operator who may issue API "
        "credentials, your session is used; otherwise paste a token in **Authorize**."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The contract's one scheme, the token: the docs page's session is no client's way in.
    "AUTHENTICATION_WHITELIST": ["controlplane.api.auth.ApiCredentialAuthentication"],
    # The docs page works offline: its scripts and styles come from the sidecar package,
    # never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
