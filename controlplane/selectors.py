"""Reads for the API and the admin."""

from __future__ import annotations

import uuid

from controlplane.models import StrategySubmission


def strategy_status(*, strategy_id: str) -> str | None:
    """The submission's status, or None when the id is unknown or not a UUID."""
    try:
        parsed = uuid.UUID(strategy_id)
    except ValueError:
        return None
    return (
        StrategySubmission.objects.filter(strategy_id=parsed)
        .values_list("status", flat=True)
        .first()
    )
