"""API authentication: `Authorization: Bearer <token>` with an operator-issued credential."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from controlplane.models import ApiCredential
from controlplane.services.credentials import credential_authenticate

if TYPE_CHECKING:
    from rest_framework.views import APIView


class ApiClient:
    """The principal of a call made with a credential (not a Django user)."""

    is_authenticated = True
    is_staff = False

    def __init__(self, credential: ApiCredential) -> None:
        self.credential = credential

    def __str__(self) -> str:
        return self.credential.name


class ApiCredentialAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiCredential] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be `Bearer <token>`")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("invalid token") from None
        credential = credential_authenticate(token)
        if credential is None:
            raise exceptions.AuthenticationFailed("unknown or revoked token")
        return ApiClient(credential), credential

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="controlplane"'


class HasApiCredential(permissions.BasePermission):
    """A credential is required, unless dev explicitly allows anonymous calls."""

    message = "an API credential is required (Authorization: Bearer <token>)"

    def has_permission(self, request: Request, view: APIView) -> bool:
        if isinstance(request.auth, ApiCredential):
            return True
        return bool(settings.API_ALLOW_ANONYMOUS) and not settings.IS_PROD


class HasApiCredentialOrStaff(HasApiCredential):
    """For the schema and its browser view: API clients and logged-in staff."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user: Any = request.user
        return bool(
            user is not None and getattr(user, "is_staff", False)
        ) or super().has_permission(request, view)
