"""A submission's or batch's way through the system, for its admin page.

Past the retention window its outbox row and dedup mark are pruned; the row itself still
holds when it was published and recorded and at which partition and offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from commitlog.models import ConsumedRecord, OutboxEvent, RecordConflict
from commitlog.records import record_key
from controlplane.models import RebalanceBatch, StrategySubmission
from controlplane.records import Event


@dataclass(frozen=True)
class Trace:
    outbox: OutboxEvent | None
    consumed: ConsumedRecord | None
    conflicts: list[RecordConflict]


def trace(*, event: str, aggregate_id: str) -> Trace:
    """Where one submission or batch went: its outbox row, its Kafka position, its read-back."""
    # Both tables are reached through their unique record key, the only index they keep.
    key = record_key(Event(event), aggregate_id)
    return Trace(
        outbox=OutboxEvent.objects.filter(key=key).first(),
        consumed=ConsumedRecord.objects.filter(key=key).first(),
        conflicts=list(RecordConflict.objects.filter(record_id=aggregate_id, event=event)[:20]),
    )


def _when(moment: datetime | None) -> str:
    return moment.isoformat(sep=" ", timespec="milliseconds") if moment else "-"


def _position(obj: StrategySubmission | RebalanceBatch) -> str:
    if obj.commitlog_offset is None:
        return "not yet"
    return f"partition {obj.commitlog_partition}, offset {obj.commitlog_offset}"


def trace_html(
    event: str, aggregate_id: str, obj: StrategySubmission | RebalanceBatch
) -> SafeString:
    """The record's way through the system, one row per step."""
    found = trace(event=event, aggregate_id=aggregate_id)
    steps: list[tuple[str, str, SafeString | str]] = [("accepted", _when(obj.submitted_at), "")]
    if found.outbox is None:
        gone = "none: pruned once read back and past the retention window, or rebuilt from the log"
        steps.append(("outbox row", "-", gone))
        steps.append(("published to Kafka", _when(obj.published_at), _position(obj)))
    else:
        row = found.outbox
        url = reverse("admin:commitlog_outboxevent_change", args=[row.pk])
        detail = format_html(
            '<a href="{}">#{}</a> {}, {} failed attempt(s){}',
            url,
            row.pk,
            row.state,
            row.attempts,
            f", last error: {row.last_error}" if row.last_error else "",
        )
        steps.append(("outbox row", _when(row.created_at), detail))
        position = (
            f"partition {row.published_partition}, offset {row.published_offset}"
            if row.published_offset is not None
            else "not yet"
        )
        steps.append(("published to Kafka", _when(row.published_at), position))
    if found.consumed is not None:
        consumed = found.consumed
        note = " (rebuilt from its payload)" if consumed.rebuilt else ""
        steps.append(
            (
                "read back by the consumer",
                _when(consumed.consumed_at),
                f"{consumed.topic} partition {consumed.partition}, offset {consumed.offset}{note}",
            )
        )
    elif obj.recorded_at is not None:
        steps.append(("read back by the consumer", "-", "dedup mark pruned"))
    else:
        steps.append(("read back by the consumer", "-", "not yet"))
    steps.append(("recorded", _when(obj.recorded_at), _position(obj) if obj.recorded_at else ""))
    for conflict in found.conflicts:
        steps.append(("CONFLICT", _when(conflict.detected_at), conflict.reason))
    rows = format_html_join(
        "", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", ((a, b, c) for a, b, c in steps)
    )
    return format_html('<table class="cp-trace">{}</table>', rows)
