"""Field checks shared by the payload parsers: a record refused says which field is wrong."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from commitlog.records import RecordRefused

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def require(payload: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = payload.get(name)
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise RecordRefused(f"payload.{name} must be a number")
    if not isinstance(value, kind):
        raise RecordRefused(f"payload.{name} is missing or of the wrong type")
    return value


def timestamp(payload: dict[str, Any]) -> datetime:
    text = require(payload, "submitted_at", str)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise RecordRefused("payload.submitted_at is not an ISO-8601 timestamp") from exc
    if parsed.tzinfo is None:
        raise RecordRefused("payload.submitted_at has no time zone")
    return parsed
