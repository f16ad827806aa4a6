"""A rebalance batch's `Idempotency-Key` in the admin: shown on the batch's page, and a
search term that finds the batches a key made. Both go through an index of the key
table (migration 0008), never a scan of it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest

from config.adminkit.mixins import AddedReadonlyFields
from controlplane.models import IdempotencyKey, RebalanceBatch

# Key rows one search reads: one per credential that used the same key.
SEARCH_KEYS = 50
NONE_SHOWN = "none (sent without one, or pruned past the retention window)"


def idempotency_key_of(batch_id: str) -> str:
    """The key the batch was made with (GIN index on batch_ids)."""
    # Neither ORDER BY nor LIMIT (as first() would add): a batch id is in one key row at
    # most, and with either PostgreSQL expects to meet a match early in a walk of the
    # table or its primary key, testing every row's array, rather than ask the GIN index.
    found = list(
        IdempotencyKey.objects.filter(batch_ids__contains=[batch_id])
        .order_by()
        .values_list("key", flat=True)
    )
    return found[0] if found else NONE_SHOWN


def batches_with_key(term: str) -> Q | None:
    """The batches made with the key `term`, as their ids: a list the search ORs with
    its other index ranges (a subquery under an OR would be a filter over every row)."""
    if not term:
        return None
    rows = IdempotencyKey.objects.filter(key=term).values_list("batch_ids", flat=True)
    batch_ids = [batch_id for ids in rows[:SEARCH_KEYS] for batch_id in ids]
    return Q(pk__in=batch_ids) if batch_ids else None


class BatchIdempotencyKey(AddedReadonlyFields):
    """The key on the batch admin's page, before the trace."""

    def added_fields(self, request: HttpRequest, obj: Any) -> list[tuple[str, str | None]]:
        found = super().added_fields(request, obj)
        return [*found, ("idempotency_key", "trace")] if obj is not None else found

    @admin.display(description="Idempotency-Key")
    def idempotency_key(self, obj: RebalanceBatch) -> str:
        return idempotency_key_of(obj.batch_id)
