"""What the submission and batch admins offer beyond their read-only pages: the export
links, the Republish button, and for batches their Idempotency-Key and its search."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from config.adminkit.display import ReadOnlyAdminMixin
from config.adminkit.search import text_prefix
from controlplane.admin.export import BatchExport, SubmissionExport
from controlplane.admin.idempotency import BatchIdempotencyKey, batches_with_key
from controlplane.admin.lookups import indexed_search
from controlplane.admin.republish_button import RepublishButton


class SubmissionTools(ReadOnlyAdminMixin, SubmissionExport, RepublishButton):
    pass


class BatchTools(ReadOnlyAdminMixin, BatchExport, RepublishButton, BatchIdempotencyKey):
    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """A batch id's first characters, a world id or an Idempotency-Key: index
        lookups, ORed (search_fields only show the box)."""
        term = search_term.strip()
        return indexed_search(
            queryset, term, text_prefix("batch_id", term), Q(world_id=term), batches_with_key(term)
        ), False
