"""Columns shared by the submission and batch lists."""

from __future__ import annotations

from django.contrib import admin

from controlplane.models import RebalanceBatch, StrategySubmission


@admin.display(description="sent by", ordering="credential__name")
def sent_by(obj: StrategySubmission | RebalanceBatch) -> str:
    """The sending credential's name (its key prefix is on its own page)."""
    return obj.credential.name if obj.credential is not None else "-"
