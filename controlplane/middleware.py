"""Django's middleware that only the admin and the browsable schema need, kept off the API.

Sessions, the user lookup and messages serve staff in a browser; an API call
authenticates with a bearer credential. Each class here is Django's own, passed by on
API paths; the admin's system checks accept the subclasses. CSRF protection stays
Django's own class, which the deploy check looks for by name (API views are exempt).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest

# The credential endpoints of the REST API (docs/API.md); the schema, docs and metrics also
# take a staff session, so they keep the whole chain.
API_PATH_PREFIXES = ("/strategies", "/rebalancing/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH_PREFIXES)


class _NotForApi:
    get_response: Callable[[HttpRequest], Any]
    async_mode: bool

    def __call__(self, request: HttpRequest) -> Any:
        if not self.async_mode and is_api_path(request.path_info):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class AdminSessionMiddleware(_NotForApi, SessionMiddleware):
    pass


class AdminAuthenticationMiddleware(_NotForApi, AuthenticationMiddleware):
    pass


class AdminMessageMiddleware(_NotForApi, MessageMiddleware):
    pass
