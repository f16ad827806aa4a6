"""Storing the records the consumer refused, each cut to a bound (commitlog.consumer.kept:
the key, the value and the headers each), with the whole lengths and the value's SHA-256.
"""

from __future__ import annotations

from collections.abc import Iterable

from commitlog.consumer.kept import kept_bound, kept_part
from commitlog.models import InvalidRecord
from commitlog.records import RawRecord, value_digest

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
    key, value = kept_part(raw.key, bound), kept_part(raw.value, bound)
    return InvalidRecord(
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        key=key.data,
        key_length=key.length,
        value=value.data,
        value_length=value.length,
        value_sha256=value_digest(raw.value) if raw.value is not None else "",
        headers=_headers_text(raw, bound),
        error=error[:ERROR_KEPT],
    )


def refused_store(refused: Iterable[tuple[RawRecord, str]]) -> None:
    """One row per (record, why it was refused); a record stored already is left as it is."""
    bound = kept_bound()
    InvalidRecord.objects.bulk_create(
        [invalid_record_of(raw, error, bound) for raw, error in refused],
        ignore_conflicts=True,  # redelivered after a crash: already stored
    )
