from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Stamp:
    """One moment, as the record's timestamp_ms and the payload's submitted_at."""

    at: datetime

    @property
    def timestamp_ms(self) -> int:
        return (self.at - _EPOCH) // timedelta(milliseconds=1)

    @property
    def iso(self) -> str:
        return self.at.isoformat()


def now_stamp() -> Stamp:
    return Stamp(datetime.now(UTC))
