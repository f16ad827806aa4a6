"""Strategy ids: UUIDs that begin with the time they were made (version 7, RFC 9562).

Every index keyed by a strategy id (the submissions' primary key, the outbox and
dedup-mark record keys `ingest:<id>`) then takes new entries at its right edge, in pages
that stay in memory, instead of one random page of an index as large as the history
for every write: the relay's and the consumer's batches cost the same at any age. They
remain UUIDs to every client; nothing may read meaning into them.
"""

from __future__ import annotations

import uuid

from uuid6 import uuid7


def new_strategy_id() -> uuid.UUID:
    return uuid7()
