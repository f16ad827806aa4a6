"""The domain's commit-log records: its two events, each payload built and parsed in one
module (ingest.py, rebalance.py), and checked by the same field rules (fields.py)."""

from __future__ import annotations

import enum


class Event(enum.StrEnum):
    INGEST = "gateway.ingest"
    REBALANCE = "gateway.rebalance"
