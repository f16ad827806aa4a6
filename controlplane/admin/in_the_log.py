"""The "In the log" panel of a submission's, a batch's and an outbox row's admin page: the
record read from the broker at the row's partition and offset (commitlog.lookup), next to
what the row says it was recorded from. One fetch of one record per page view, for staff
who may see the commit log's operations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from commitlog.admin import OutboxEventAdmin
from commitlog.lookup import LogLook, look_at
from commitlog.models import OutboxEvent
from commitlog.records import value_digest
from config.adminkit.display import pretty_json
from controlplane.admin.staff_access import may_see_operations
from controlplane.models import RebalanceBatch, StrategySubmission

if TYPE_CHECKING:
    from django.template.response import _TemplateForResponseT

TEMPLATE = "admin/change_form_in_the_log.html"


def _position(obj: Any) -> tuple[int | None, int | None, str, str]:
    """Partition, offset, the digest the row expects, and what that digest stands for."""
    if isinstance(obj, OutboxEvent):
        return (
            obj.published_partition,
            obj.published_offset,
            value_digest(bytes(obj.value)),
            "the value this outbox row was written with",
        )
    if isinstance(obj, StrategySubmission | RebalanceBatch):
        return (
            obj.commitlog_partition,
            obj.commitlog_offset,
            obj.commitlog_sha256,
            "the record the consumer recorded this row from",
        )
    raise TypeError(f"no log position on {type(obj).__name__}")


def panel(obj: Any) -> dict[str, Any]:
    """The panel's context: a look at the log, or why there is nothing to look at."""
    partition, offset, expected, meaning = _position(obj)
    if partition is None or offset is None:
        return {"unpublished": True}
    look = look_at(partition=partition, offset=offset, expected_digest=expected)
    return {"look": look, "compared_with": meaning, "value_html": _value_html(look)}


def _value_html(look: LogLook) -> SafeString:
    decoded, value = look.value_json
    return pretty_json(value) if decoded else format_html("<pre>{}</pre>", value)


class InTheLog:
    """A model admin mixin: the panel below the change page's fields."""

    change_form_template: ClassVar[_TemplateForResponseT | None] = TEMPLATE

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        # Only a page of an existing row, and only for staff who may see the log's state.
        if obj is not None and may_see_operations(request.user):
            context["in_the_log"] = panel(obj)
        return super().render_change_form(  # type: ignore[misc]
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )


class OutboxEventWithLogAdmin(InTheLog, OutboxEventAdmin):
    pass


def add_to_the_outbox_page() -> None:
    """The outbox row's page gets the panel too: commitlog's admin stays free of this app,
    so its registration is replaced by one with the panel (from ControlPlaneConfig.ready)."""
    if admin.site.is_registered(OutboxEvent):
        admin.site.unregister(OutboxEvent)
    admin.site.register(OutboxEvent, OutboxEventWithLogAdmin)
