"""A forged log line the log tests try to inject."""

from __future__ import annotations

FORGED = "ts=2026-12-01 10:00:00,000 level=INFO logger=controlplane event=credential_revoked"
