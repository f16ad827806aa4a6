"""How much the consumer keeps of a record it does not apply, refused or in conflict.

Anyone who can write to the topic can send records as large as the broker takes, and
every record the consumer does not apply is stored for operators: kept whole, a flood of
them would grow those tables by their own size. Each part is cut to one bound
(CONSUMER_INVALID_RECORD_MAX_BYTES), beside its whole length; the row also holds the
SHA-256 of the whole value, so an operator can still tell records apart and match one
against a copy.
"""

from __future__ import annotations

from typing import NamedTuple

from commitlog.conf import commitlog_settings


class Kept(NamedTuple):
    data: bytes | None  # the first `bound` bytes
    length: int | None  # of the whole part


def kept_bound() -> int:
    """Bytes kept of each part of a record the consumer stores without applying it."""
    return commitlog_settings().consumer_invalid_record_max_bytes


def kept_part(data: bytes | None, bound: int) -> Kept:
    """At most `bound` bytes of a record's key or value, with its whole length."""
    if data is None:
        return Kept(None, None)
    return Kept(data[:bound], len(data))
