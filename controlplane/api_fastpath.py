"""The common case of POST /strategies, decided without DRF's request machinery.

Under load DRF's part of an accepted submission (wrapping the request, negotiating the
renderer, parsing, then a serializer whose fields are deep-copied per call) held about
a third of the workers' interpreter time (py-spy `--gil`). A request that is plainly
well formed, with a bearer credential that authenticates, a JSON body of the expected
media type within the size limit, only known fields and each of its expected type, is
read here in one typed decode and goes straight to the service. Anything else returns
None and takes the DRF view's path, which stays the only author of error answers: this
module accepts a subset of what that path accepts, to the same values, and refuses
nothing itself.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed

from controlplane.auth import ApiCredentialAuthentication
from controlplane.jsonutil import json_depth, may_hold_escaped_nul, may_hold_escaped_surrogate

# Clients that say nothing about the answer's type, or ask for JSON in the plainest way;
# any other Accept goes through DRF's negotiation.
_PLAIN_ACCEPT = frozenset({"", "*/*", "application/json"})


class SubmissionFields(msgspec.Struct, forbid_unknown_fields=True):
    """The fields of a strategy submission, typed as StrategySubmitIn validates them.

    Unknown fields are refused (not skipped) so that the whole body is seen here: the
    DRF path bounds the nesting of every field, known or not.
    """

    dag_json: Annotated[str, msgspec.Meta(min_length=1)]
    node_ids_crc32: Annotated[int, msgspec.Meta(ge=0, le=0xFFFFFFFF)]
    meta: dict[str, Any] | None = None
    world_ids: list[str] | None = msgspec.field(default_factory=list)  # as DRF's default
    context: dict[str, Any] | None = None
    world_id: None = None  # deprecated: a value gets its own error from the DRF path


_decoder = msgspec.json.Decoder(SubmissionFields)


def submission_fields(raw: bytes) -> SubmissionFields | None:
    """The fields of a body that BoundedJSONParser and StrategySubmitIn both accept, read
    to the same values; None when either might refuse it or read it differently.

    NaN and Infinity, numbers beyond a double, raw control characters, invalid UTF-8 and
    trailing text fail the decode as they fail `json.loads`; a type DRF would coerce or
    refuse (`1.0`, `true`, `"5"` for the checksum, a blank `dag_json`) fails it too.
    """
    if len(raw) > settings.API_MAX_BODY_BYTES:
        return None
    # The parser's NUL and lone-surrogate checks look for these escapes first; a body
    # holding one is left to them.
    if may_hold_escaped_nul(raw) or may_hold_escaped_surrogate(raw):
        return None
    try:
        fields = _decoder.decode(raw)
    except (msgspec.MsgspecError, UnicodeDecodeError):
        return None
    # The body object is one level; its deepest field sets the rest.
    depth = 1 + max(
        json_depth(fields.meta), json_depth(fields.context), json_depth(fields.world_ids)
    )
    if depth > settings.API_MAX_JSON_DEPTH:
        return None
    return fields


def _authenticated(request: HttpRequest) -> bool:
    # The DRF path's own authentication class: the same header rules and the same lookup.
    try:
        found = ApiCredentialAuthentication().authenticate(request)  # type: ignore[arg-type]
    except AuthenticationFailed:
        return False
    return found is not None


def plain_submission(request: HttpRequest) -> SubmissionFields | None:
    """The submission a plain, authenticated POST carries; None for any other request."""
    meta = request.META
    if (
        request.method != "POST"
        or request.content_type != "application/json"
        or meta.get("QUERY_STRING")  # `?format=` and the like are DRF's to read
        or meta.get("HTTP_ACCEPT", "") not in _PLAIN_ACCEPT
    ):
        return None
    length = meta.get("CONTENT_LENGTH") or ""
    if not length.isdigit() or not 0 < int(length) <= settings.API_MAX_BODY_BYTES:
        return None
    # After the credential: an unauthenticated caller's body is not read here.
    if not _authenticated(request):
        return None
    return submission_fields(request.body)
