"""Signed records: with COMMITLOG_SIGNING_KEY set, the relay puts an HMAC-SHA256 of each
record's key and value in a header, and the consumer stores a record without a valid one
as invalid instead of applying it, so that only a holder of the key can change the state
through the log. The value's bytes are untouched (qmtl's consumers ignore headers).

Several keys may be given for a rotation: the first signs, any of them is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

from commitlog.conf import commitlog_settings

HEADER = "commitlog-hmac-sha256"
Headers = list[tuple[str, str | bytes | None]]


class RecordSigner:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a signer needs at least one key")
        self._keys = [key.encode() for key in keys]

    def _digest(self, secret: bytes, key: bytes, value: bytes) -> bytes:
        mac = hmac.new(secret, digestmod=hashlib.sha256)
        # The key's length first, so that no other split of the same bytes into key and
        # value has the same signature.
        mac.update(len(key).to_bytes(4, "big"))
        mac.update(key)
        mac.update(value)
        return mac.hexdigest().encode()

    def headers(self, key: bytes, value: bytes) -> Headers:
        return [(HEADER, self._digest(self._keys[0], key, value))]

    def refusal(
        self, key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, object]]
    ) -> str | None:
        """Why the record may not be applied, or None when a signature holds."""
        signatures = [v for name, v in headers if name == HEADER and isinstance(v, bytes)]
        if not signatures:
            return "record is not signed"
        key, value = key or b"", value or b""
        for secret in self._keys:
            expected = self._digest(secret, key, value)
            if any(hmac.compare_digest(expected, given) for given in signatures):
                return None
        return "record signature does not match"


def record_signer() -> RecordSigner | None:
    """The signer of the configured keys; None when records are not signed."""
    keys = commitlog_settings().commitlog_signing_keys
    return RecordSigner(keys) if keys else None
