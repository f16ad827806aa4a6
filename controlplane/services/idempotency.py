"""`Idempotency-Key` on rebalance requests: a retry with the same key and the same body is
answered as the first request was and writes nothing; the same key with another body is
refused.

The key's row is inserted in the same transaction as the batches it names, before them:
of two concurrent requests with one key, the second's insert waits on the first's unique
index entry and then finds it taken, so only one set of batches is ever written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from controlplane.domain import widths
from controlplane.errors import ApplicationError
from controlplane.errors import codes as error_codes
from controlplane.models import IdempotencyKey

KEPT_AT_LEAST = timedelta(hours=24)  # pruned only past both this and the retention window


class InvalidIdempotencyKey(ApplicationError):
    code = error_codes.INVALID_IDEMPOTENCY_KEY


class IdempotencyKeyReused(ApplicationError):
    code = error_codes.IDEMPOTENCY_KEY_REUSED


def request_digest(body: Any) -> str:
    """SHA-256 of the parsed body in a canonical form: a client that serialises the same
    request with its keys in another order or other spacing sends the same request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyClaim:
    """One request's key, for the credential that sent it (None: an anonymous dev call)."""

    credential_id: int | None
    key: str
    digest: str

    def earlier(self) -> list[str] | None:
        """The batch ids an earlier request with this key made, or None if there was none.

        Raises IdempotencyKeyReused when that request's body was another one.
        """
        found = (
            IdempotencyKey.objects.filter(credential_id=self.credential_id, key=self.key)
            .values_list("request_sha256", "batch_ids")
            .first()
        )
        if found is None:
            return None
        digest, batch_ids = found
        if digest != self.digest:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request body; "
                "use a new key for a new request"
            )
        return list(batch_ids)

    def hold(self, batch_ids: list[str], at: datetime) -> bool:
        """Take the key for `batch_ids`, inside the caller's transaction; False if another
        request holds it (that request has then committed: the caller rolls back and asks
        `earlier()`)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO controlplane_idempotencykey "
                "(credential_id, key, request_sha256, batch_ids, created_at) "
                "VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (credential_id, key) DO NOTHING RETURNING id",
                [self.credential_id, self.key, self.digest, batch_ids, at],
            )
            return cursor.fetchone() is not None


def idempotency_claim(
    *, header: str | None, credential_id: int | None, body: Any
) -> IdempotencyClaim | None:
    """The claim of a request's `Idempotency-Key` header, None when it sends none."""
    if header is None:
        return None
    if not header or len(header) > widths.IDEMPOTENCY_KEY:
        raise InvalidIdempotencyKey(
            f"Idempotency-Key must be 1 to {widths.IDEMPOTENCY_KEY} characters",
            field="Idempotency-Key",
        )
    if not header.isprintable() or header != header.strip():
        raise InvalidIdempotencyKey(
            "Idempotency-Key must be printable, without leading or trailing spaces",
            field="Idempotency-Key",
        )
    return IdempotencyClaim(credential_id, header, request_digest(body))
