"""What the log holds at one position, as an operator checks a row against it: the record
read from the broker (one fetch), its signature's verdict, and whether its bytes are the
ones a row was recorded from. Knows nothing of the rows: the caller gives the position
and the digest it expects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commitlog.conf import commitlog_settings
from commitlog.kafka.reader import FetchedRecord, FetchError, fetch_record
from commitlog.records import loads, value_digest
from commitlog.signing import HEADER, record_signer

NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class LogLook:
    topic: str
    partition: int
    offset: int
    expected_digest: str  # what the row says it was recorded from ("" when it says nothing)
    record: FetchedRecord | None = None
    error: str = ""
    error_kind: str = ""

    @property
    def digest(self) -> str:
        value = self.record.raw.value if self.record else None
        return value_digest(value) if value is not None else ""

    @property
    def same_bytes(self) -> bool | None:
        """True or False once both sides are known; None when one is missing."""
        if not self.expected_digest or not self.digest:
            return None
        return self.digest == self.expected_digest

    @property
    def value_size(self) -> int:
        value = self.record.raw.value if self.record else None
        return len(value) if value is not None else 0

    @property
    def key_text(self) -> str:
        key = self.record.raw.key if self.record else None
        return key.decode("utf-8", errors="replace") if key is not None else ""

    @property
    def value_json(self) -> tuple[bool, Any]:
        """(True, the decoded JSON), or (False, the value as text) when it is not JSON."""
        value = self.record.raw.value if self.record else None
        if value is None:
            return False, ""
        try:
            return True, loads(value)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return False, value[:4000].decode("utf-8", errors="replace")

    @property
    def headers(self) -> list[tuple[str, str]]:
        shown = []
        for name, value in self.record.raw.headers if self.record else ():
            text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
            shown.append((name, "(none)" if text is None else text))
        return shown

    @property
    def signature(self) -> str:
        """The signature's verdict, as the consumer would judge it here."""
        if self.record is None:
            return ""
        raw = self.record.raw
        signer = record_signer()
        signed = any(name == HEADER for name, _ in raw.headers)
        if signer is None:
            return "signed; no key is configured here to check it" if signed else "not signed"
        refusal = signer.refusal(raw.key, raw.value, raw.headers)
        return "valid signature" if refusal is None else refusal


def look_at(*, partition: int, offset: int, expected_digest: str, topic: str = "") -> LogLook:
    """The record at `partition`/`offset` of the commit-log topic (or `topic`), read within
    COMMITLOG_VIEW_TIMEOUT_SECONDS; an error in the answer, never raised."""
    conf = commitlog_settings()
    topic = topic or conf.commitlog_topic
    look = LogLook(topic, partition, offset, expected_digest)
    if not conf.commitlog_bootstrap:
        return _failed(look, NOT_CONFIGURED, "no broker is configured (COMMITLOG_BOOTSTRAP)")
    try:
        record = fetch_record(
            bootstrap=conf.commitlog_bootstrap,
            topic=topic,
            partition=partition,
            offset=offset,
            timeout_s=conf.commitlog_view_timeout_seconds,
            client_config=conf.commitlog_client_config,
        )
    except FetchError as exc:
        return _failed(look, exc.kind, str(exc))
    return LogLook(topic, partition, offset, expected_digest, record=record)


def _failed(look: LogLook, kind: str, message: str) -> LogLook:
    return LogLook(
        look.topic, look.partition, look.offset, look.expected_digest, None, message, kind
    )
