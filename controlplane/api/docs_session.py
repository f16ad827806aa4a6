"""Try it out on /api/docs for an operator logged in to the admin: Swagger UI's calls
carry the admin session instead of a token.

Accepted only for staff who may issue API credentials (they could issue themselves a
token without limits, so the session lets them do nothing more), only for a call whose
`Referer` is this host's docs page, and, for a write, only with the page's CSRF token
(DRF's session check; static/controlplane/api_docs.js sends it). Such a call has no
credential: no limits, no throttle, no sender on its submission; each is logged with
the operator's name."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.urls import reverse
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from controlplane.admin.staff_access import may_try_the_api

logger = logging.getLogger(__name__)


class OperatorSession:
    """`request.auth` of a call from the docs page: the operator who made it."""

    def __init__(self, user: Any) -> None:
        self.user = user


class DocsSessionAuthentication(SessionAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, OperatorSession] | None:
        user: Any = getattr(request._request, "user", None)
        if not may_try_the_api(user) or not _from_the_docs_page(request):
            return None
        self.enforce_csrf(request)
        logger.info(
            "event=api_call_from_docs user=%s method=%s path=%s",
            user.get_username(),
            request.method,
            request.path,
        )
        return user, OperatorSession(user)


def _from_the_docs_page(request: Request) -> bool:
    # Host and path, not the scheme: behind a proxy that ends TLS the page is https while
    # the request may reach Django as http.
    referer = urlsplit(request.headers.get("Referer", ""))
    return (referer.netloc, referer.path) == (request.get_host(), reverse("openapi-docs"))
