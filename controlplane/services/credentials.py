"""API credentials: issue (the token is shown once), authenticate, revoke."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from controlplane.domain import widths
from controlplane.domain.scopes import Scope
from controlplane.models import ApiCredential

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "cp_"  # noqa: S105 (a prefix, not a secret)
TOKEN_BYTES = 32
# What credential_issue makes: the prefix, then secrets.token_urlsafe(TOKEN_BYTES).
_TOKEN_SHAPE = re.compile(rf"{TOKEN_PREFIX}[A-Za-z0-9_-]{{{math.ceil(TOKEN_BYTES * 4 / 3)}}}")
# last_used_at is a hint for operators; writing it on every call would cost a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A credential found in the last few seconds is reused without a query (the lookup was a
# sixth of a submission's time). A revocation takes effect at once in the process that
# revokes, and within this time in every other API process.
RECENT_SECONDS = 5.0
_recent: dict[str, tuple[float, ApiCredential]] = {}  # key_hash -> (monotonic found, credential)


@dataclass(frozen=True)
class IssuedCredential:
    credential: ApiCredential
    token: str  # the only time the plain token exists


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def credential_log_fields(credential: ApiCredential | None) -> tuple[object, str]:
    """The sender's id and name, for a log line's `credential_id=%s credential=%s` (`-` for
    an anonymous dev call); passed as arguments, so that the formatter quotes the name."""
    if credential is None:
        return "-", "-"
    return credential.pk, credential.name


@dataclass(frozen=True)
class Limits:
    """The worlds and rebalance scopes a credential may use; empty: all of them."""

    worlds: list[str]
    scopes: list[str]


def credential_limits(*, worlds: Iterable[str] = (), scopes: Iterable[str] = ()) -> Limits:
    """Limits cleaned as they are stored: ids stripped, blanks and repeats dropped.

    Raises ValueError for a world id too long or an unknown scope.
    """
    clean_worlds = list(dict.fromkeys(w.strip() for w in worlds if w.strip()))
    too_long = [w for w in clean_worlds if len(w) > widths.WORLD_ID]
    if too_long:
        raise ValueError(f"world id longer than {widths.WORLD_ID} characters")
    clean_scopes = list(dict.fromkeys(scopes))
    unknown = sorted(set(clean_scopes) - set(Scope.values))
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    return Limits(clean_worlds, clean_scopes)


def _limits_fields(limits: Limits) -> tuple[str, str]:
    """The values of a log line's `worlds=%s scopes=%s` fields (`*`: any)."""
    return ",".join(limits.worlds) or "*", ",".join(limits.scopes) or "*"


def credential_issue(*, name: str, limits: Limits | None = None) -> IssuedCredential:
    name = name.strip()
    if not name:
        raise ValueError("a credential needs a name")
    limits = limits or credential_limits()
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    credential = ApiCredential.objects.create(
        name=name,
        key_prefix=token[:10],
        key_hash=hash_token(token),
        allowed_worlds=limits.worlds,
        allowed_scopes=limits.scopes,
    )
    logger.info(
        "event=credential_issued credential_id=%s name=%s worlds=%s scopes=%s",
        credential.pk,
        name,
        *_limits_fields(limits),
    )
    return IssuedCredential(credential=credential, token=token)


def credential_set_limits(*, credential: ApiCredential, limits: Limits) -> ApiCredential:
    """New limits, in force at once in this process and within RECENT_SECONDS in others."""
    ApiCredential.objects.filter(pk=credential.pk).update(
        allowed_worlds=limits.worlds, allowed_scopes=limits.scopes
    )
    credential.refresh_from_db()
    _recent.pop(credential.key_hash, None)
    logger.info(
        "event=credential_limits_changed credential_id=%s worlds=%s scopes=%s",
        credential.pk,
        *_limits_fields(limits),
    )
    return credential


def credential_revoke(
    *, credential: ApiCredential, actor: AbstractBaseUser | None = None
) -> ApiCredential:
    """Revoke; a user `actor` (who revoked it) goes into the admin history, in the same
    transaction, and into the log line."""
    with transaction.atomic():
        updated = ApiCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated and actor is not None:
            LogEntry.objects.log_actions(
                user_id=actor.pk,
                queryset=[credential],
                action_flag=CHANGE,
                change_message="Revoked.",
                single_object=True,
            )
    credential.refresh_from_db()
    _recent.pop(credential.key_hash, None)
    if updated:
        logger.info(
            "event=credential_revoked credential_id=%s actor=%s",
            credential.pk,
            actor.get_username() if actor is not None else "-",
        )
    return credential


def token_well_formed(token: str) -> bool:
    """Whether `token` has the shape of one credential_issue makes (none other is stored)."""
    return _TOKEN_SHAPE.fullmatch(token) is not None


def credential_authenticate(
    token: str, before_lookup: Callable[[], None] | None = None
) -> ApiCredential | None:
    """The active credential for a token, or None; marks it used (coarsely).

    A token of another shape is None without a lookup. `before_lookup` runs just before
    the database is asked (not for a credential found in the last RECENT_SECONDS): what
    it raises stops the call there.
    """
    if not token_well_formed(token):
        return None
    key_hash = hash_token(token)
    found_at, credential = _recent.get(key_hash, (0.0, None))
    if credential is None or time.monotonic() - found_at > RECENT_SECONDS:
        if before_lookup is not None:
            before_lookup()
        credential = ApiCredential.objects.filter(
            key_hash=key_hash, revoked_at__isnull=True
        ).first()
        if credential is None:
            _recent.pop(key_hash, None)
            return None
        _recent[key_hash] = (time.monotonic(), credential)
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_RESOLUTION:
        ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
        credential.last_used_at = now
    return credential
