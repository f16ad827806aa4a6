"""Storing the records the consumer refused, each cut to a bound.

Anyone who can write to the topic can send records as large as the broker takes, and every
one it refuses is kept for operators: kept whole, a flood of them would grow the table by
its own size. What is kept of each is bounded (CONSUMER_INVALID_RECORD_MAX_BYTES for the
key, the value and the headers each), with the whole lengths and the value's SHA-256, so
an operator can still tell records apart and match one against a copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from commitlog.conf import commitlog_settings
from commitlog.models import InvalidRecord
from commitlog.records import RawRecord

ERROR_KEPT = 2000  # characters of the refusal's reason


def _headers_text(raw: RawRecord, bound: int) -> str:
    """`name: value` lines, no more than `bound` UTF-8 bytes (no longer built, either)."""
    kept = bytearray()
    for name, value in raw.headers:
        shown = "-" if value is None else repr(value[:bound])
        kept += f"{name[:bound]}: {shown}\n".encode()
        if len(kept) >= bound:
            break
    return bytes(kept[:bound]).decode(errors="ignore").rstrip("\n")


def invalid_record_of(raw: RawRecord, error: str, bound: int) -> InvalidRecord:
    """The row for a refused record, holding at most `bound` bytes of each of its parts."""
    value = raw.value
    return InvalidRecord(
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        key=raw.key[:bound] if raw.key is not None else None,
        key_length=len(raw.key) if raw.key is not None else None,
        value=value[:bound] if value is not None else None,
        value_length=len(value) if value is not None else None,
        value_sha256=hashlib.sha256(value).hexdigest() if value is not None else "",
        headers=_headers_text(raw, bound),
        error=error[:ERROR_KEPT],
    )


def refused_store(refused: Iterable[tuple[RawRecord, str]]) -> None:
    """One row per (record, why it was refused); a record stored already is left as it is."""
    bound = commitlog_settings().consumer_invalid_record_max_bytes
    InvalidRecord.objects.bulk_create(
        [invalid_record_of(raw, error, bound) for raw, error in refused],
        ignore_conflicts=True,  # redelivered after a crash: already stored
    )
