"""How the admin shows a stored record's bytes."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

from commitlog.records import RecordRefused, decode_value
from config.adminkit.display import pretty_json


def decoded_value(raw: bytes | memoryview | None, length: int | None = None) -> SafeString:
    """A stored record's value as the admin shows it: decoded and indented, or the reason
    it does not decode beside its first bytes. `length`: of the whole value, when only
    its first bytes were kept (commitlog.consumer.kept); those are shown as text."""
    if raw is None:
        return format_html("<pre>{}</pre>", "(no value)")
    data = bytes(raw)
    if length is not None and len(data) < length:  # cut JSON never decodes: not tried
        text = data.decode("utf-8", errors="replace")
        return format_html("<pre>{}\n\n{}</pre>", f"not decoded, {kept_size(data, length)}", text)
    try:
        record = decode_value(data)
    except RecordRefused as exc:
        text = data[:4000].decode("utf-8", errors="replace")
        return format_html("<pre>undecodable: {}\n\n{}</pre>", str(exc), text)
    return pretty_json([record.event, record.timestamp_ms, record.id, record.payload])


def kept_size(raw: bytes | memoryview | None, length: int | None) -> str:
    """How much of a stored record's part the row holds (commitlog.consumer.kept)."""
    if raw is None:
        return "-"
    kept = len(bytes(raw))
    if length is None:  # stored before records were cut
        return f"whole: {kept} bytes"
    if kept < length:
        return f"truncated: {kept} of {length} bytes"
    return f"whole: {length} bytes"
