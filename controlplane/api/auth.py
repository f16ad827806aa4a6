"""API authentication with an operator-issued credential, sent as `Authorization: Bearer
<token>` or as HTTP Basic with the token as the password (any user name): qmtl's SDK sends
no header of its own, but pointed at `https://client:<token>@host` its HTTP client sends
Basic."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from controlplane.admin.staff_access import may_read_api_docs, may_see_operations
from controlplane.api.auth_failures import FailureGate
from controlplane.api.docs_session import OperatorSession
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
    bearer_keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiCredential] | None:
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        keyword = header[0].lower().decode(errors="replace")
        if keyword not in (*self.bearer_keywords, "basic"):
            return None
        gate = FailureGate(request)
        try:
            token = _bearer_token(header) if keyword != "basic" else _basic_password(header)
            credential = credential_authenticate(token, before_lookup=gate.check)
            if credential is None:
                raise exceptions.AuthenticationFailed("unknown or revoked token")
        except exceptions.AuthenticationFailed:
            gate.failed()  # Throttled instead, once the address is over its rate
            raise
        return ApiClient(credential), credential

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="controlplane"'


def _bearer_token(header: list[bytes]) -> str:
    if len(header) != 2:
        raise exceptions.AuthenticationFailed("Authorization header must be `Bearer <token>`")
    try:
        return header[1].decode("ascii")
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed("invalid token") from None


def _basic_password(header: list[bytes]) -> str:
    """The password of `Basic base64(user:password)`: the token; the user name is ignored."""
    if len(header) != 2:
        raise exceptions.AuthenticationFailed("Authorization header must be `Basic <base64>`")
    try:
        decoded = base64.b64decode(header[1], validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise exceptions.AuthenticationFailed("invalid Basic credentials") from None
    _, colon, password = decoded.partition(":")
    if not colon or not password:
        raise exceptions.AuthenticationFailed("Basic credentials need the token as the password")
    return password


class HasApiCredential(permissions.BasePermission):
    """A credential is required (or, from /api/docs, an operator's session: docs_session),
    unless dev explicitly allows anonymous calls."""

    message = (
        "an API credential is required (Authorization: Bearer <token>, or HTTP Basic with "
        "the token as the password)"
    )

    def has_permission(self, request: Request, view: APIView) -> bool:
        if isinstance(request.auth, ApiCredential | OperatorSession):
            return True
        return bool(settings.API_ALLOW_ANONYMOUS) and not settings.IS_PROD


class _HasApiCredentialOrStaff(HasApiCredential):
    """API clients, and staff logged in to the admin whom `staff_may` lets in."""

    def staff_may(self, user: Any) -> bool:
        raise NotImplementedError

    def has_permission(self, request: Request, view: APIView) -> bool:
        return self.staff_may(request.user) or super().has_permission(request, view)


class HasApiCredentialOrApiStaff(_HasApiCredentialOrStaff):
    """The schema and its browser view."""

    def staff_may(self, user: Any) -> bool:
        return may_read_api_docs(user)


class HasApiCredentialOrOperator(_HasApiCredentialOrStaff):
    """/metrics: Prometheus with a credential, operators in a browser."""

    def staff_may(self, user: Any) -> bool:
        return may_see_operations(user)
