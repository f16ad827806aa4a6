"""The columns of the submission, batch and credential lists (list_display)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString

from config.adminkit.cells import text_cell
from config.adminkit.columns import (
    change_url,
    choice_column,
    id_column,
    plain_column,
    text_column,
    time_column,
)
from controlplane.models import RebalanceBatch, StrategySubmission


@admin.display(description="sent by", ordering="credential__name")
def sent_by(obj: StrategySubmission | RebalanceBatch) -> SafeString:
    """The sending credential's name (its key prefix is on its own page)."""
    return text_cell(obj.credential.name if obj.credential is not None else None)


SUBMISSION_COLUMNS = (
    id_column("strategy_id", "strategy id", link=change_url, ordering="strategy_id"),
    choice_column(StrategySubmission, "status", "status"),
    text_column("world_ids", "worlds"),
    text_column("execution_domain", "domain", ordering="execution_domain"),
    "downgraded",
    sent_by,
    time_column("submitted_at", "submitted"),
    "log_position",
)
BATCH_COLUMNS = (
    id_column("batch_id", "batch id", link=change_url, ordering="batch_id"),
    choice_column(RebalanceBatch, "status", "status"),
    text_column("world_id", "world", ordering="world_id"),
    "scope",
    plain_column("total_orders", "orders", "Orders in the batch"),
    plain_column("reduce_only_orders", "reducing", "Reduce-only orders"),
    plain_column("reduce_only_ratio", "ratio", "Reduce-only orders / all orders"),
    text_column("mode", "mode", ordering="mode"),
    plain_column("shared_account", "shared", "Shared-account netting", boolean=True),
    sent_by,
    time_column("submitted_at", "submitted"),
)
# Its strings name the credential admin's own methods (is_active, worlds, scopes) or fields.
CREDENTIAL_COLUMNS = (
    text_column("name", "name", ordering="name"),
    "key_prefix",
    "is_active",
    "worlds",
    "scopes",
    time_column("created_at", "created"),
    time_column("last_used_at", "last used"),
    time_column("revoked_at", "revoked"),
)
