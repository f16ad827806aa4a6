"""The API's schema and browser docs (Swagger UI, assets from the sidecar package): staff
and API clients see them; a browser with neither is sent to the admin login and back.
A refusal is JSON, as every other API answer (not rendered as an OpenAPI document). The
page loads its start-up script from this view (`?script`) instead of inline, so the
Content-Security-Policy needs no inline scripts."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


def _json_refusal(view: SpectacularAPIView | SpectacularSwaggerSplitView) -> None:
    view.request.accepted_renderer = JSONRenderer()
    view.request.accepted_media_type = JSONRenderer.media_type


class ApiSchemaView(SpectacularAPIView):
    def handle_exception(self, exc: Exception) -> Response:
        _json_refusal(self)
        return super().handle_exception(exc)


class ApiDocsView(SpectacularSwaggerSplitView):
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
