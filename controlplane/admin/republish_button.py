"""A Republish button on a submission's or batch's page, for its published outbox row.

The page is already a form (the admin's change form, with its CSRF token, and no other
submit button on these read-only pages); the button posts that form to the outbox list's
Republish action for this one row instead, so the action's bound, history entry and log
line apply as they do from the list (commitlog.outbox.republish)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from commitlog.models import OutboxEvent, OutboxState
from commitlog.records import record_key
from config.adminkit.mixins import AddedReadonlyFields
from controlplane.models import RebalanceBatch, StrategySubmission
from controlplane.records import Event

FIELD = "republish"
PERMISSION = "commitlog.change_outboxevent"  # as the outbox list's action asks
EVENTS = {StrategySubmission: Event.INGEST, RebalanceBatch: Event.REBALANCE}


class RepublishButton(AddedReadonlyFields):
    """For the submission and batch admins: the button, last on the page, for staff who
    may change outbox rows."""

    def added_fields(self, request: HttpRequest, obj: Any) -> list[tuple[str, str | None]]:
        found = super().added_fields(request, obj)
        offered = obj is not None and request.user.has_perm(PERMISSION)
        return [*found, (FIELD, None)] if offered else found

    @admin.display(description="republish")
    def republish(self, obj: Any) -> SafeString:
        key = record_key(EVENTS[self.model], str(obj.pk))
        row = OutboxEvent.objects.filter(key=key).values_list("id", "state").first()
        if row is None:
            return format_html("{}", "no outbox row (pruned, or rebuilt from the log)")
        row_id, state = row
        if state != OutboxState.PUBLISHED:
            return format_html("outbox row #{} is {}: not published, nothing to resend", *row)
        return format_html(
            '<input type="hidden" name="_selected_action" value="{}">'
            '<button type="submit" name="action" value="republish" formmethod="post" '
            'formaction="{}" class="button">Republish outbox row #{}</button> '
            "(the same bytes again; the consumer counts them as a duplicate)",
            row_id,
            reverse("admin:commitlog_outboxevent_changelist"),
            row_id,
        )
