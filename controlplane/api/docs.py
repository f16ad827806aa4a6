"""The API's schema and browser docs (Swagger UI, assets from the sidecar package): staff
and API clients see them; a browser with neither is sent to the admin login and back.
A refusal is JSON, as every other API answer (not rendered as an OpenAPI document). The
page starts Swagger UI from a static file (controlplane/api_docs.js), so the
Content-Security-Policy needs no inline scripts; the page hands it the schema's address
and the CSRF token for "Try it out" with the admin session (docs_session)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response


def _json_refusal(view: SpectacularAPIView | SpectacularSwaggerView) -> None:
    view.request.accepted_renderer = JSONRenderer()
    view.request.accepted_media_type = JSONRenderer.media_type


class ApiSchemaView(SpectacularAPIView):
    def handle_exception(self, exc: Exception) -> Response:
        _json_refusal(self)
        return super().handle_exception(exc)


class ApiDocsView(SpectacularSwaggerView):
    template_name = "api/docs.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        # drf-spectacular opens the page to other windows for OAuth pop-ups, which this
        # API does not use: the site's own opener policy stays.
        del response["Cross-Origin-Opener-Policy"]
        return response

    # DRF passes any HttpResponse on (finalize_response accepts them); its stubs say Response.
    def handle_exception(self, exc: Exception) -> Response | HttpResponseRedirect:  # type: ignore[override]
        refused = isinstance(exc, exceptions.NotAuthenticated | exceptions.PermissionDenied)
        request = self.request
        signed_in = request.user is not None and request.user.is_authenticated
        browsing = request.method in ("GET", "HEAD")
        if refused and browsing and not signed_in and request.auth is None:
            query = urlencode({"next": self.request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('admin:login')}?{query}")
        # Any other refusal (a bad credential) is an API answer: JSON, like every other.
        _json_refusal(self)
        return super().handle_exception(exc)
