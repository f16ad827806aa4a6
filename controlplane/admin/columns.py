"""Columns shared by the submission and batch lists."""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString

from config.adminkit.cells import text_cell
from controlplane.models import RebalanceBatch, StrategySubmission


@admin.display(description="sent by", ordering="credential__name")
def sent_by(obj: StrategySubmission | RebalanceBatch) -> SafeString:
    """The sending credential's name (its key prefix is on its own page)."""
    return text_cell(obj.credential.name if obj.credential is not None else None)
