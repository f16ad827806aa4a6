"""What the commit log's audit asks of this app's rows (commitlog.audit): the rows of the
ids it read, through their primary key, and the rows recorded in a window of submission
time, through the submitted_at index. Handed over with the event handlers (lifecycle)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime

from django.db.models import Model

from commitlog.registry import RecordedRow
from controlplane.models import SubmissionStatus

_COLUMNS = ("status", "commitlog_partition", "commitlog_offset", "commitlog_sha256", "recorded_at")
CHUNK = 2000  # rows per round trip of the window's server-side cursor


def _row(pk: object, status: str, partition: int | None, offset: int | None, digest: str,
         recorded_at: datetime | None) -> RecordedRow:  # fmt: skip
    recorded = status == SubmissionStatus.RECORDED
    return RecordedRow(str(pk), recorded, partition, offset, digest, recorded_at)


def _valid_uuids(ids: list[str]) -> list[str]:
    valid = []
    for text in ids:
        try:
            uuid.UUID(text)
        except ValueError:
            continue  # no submission has it: the audit counts the record as unknown
        valid.append(text)
    return valid


def rows_of(
    model: type[Model], *, uuid_keys: bool = False
) -> Callable[[list[str]], dict[str, RecordedRow]]:
    def rows(ids: list[str]) -> dict[str, RecordedRow]:
        keys = _valid_uuids(ids) if uuid_keys else ids
        found = model._default_manager.filter(pk__in=keys).values_list("pk", *_COLUMNS)
        return {str(values[0]): _row(*values) for values in found}

    return rows


def recorded_between_of(
    model: type[Model],
) -> Callable[[datetime | None, datetime], Iterator[RecordedRow]]:
    def recorded_between(since: datetime | None, until: datetime) -> Iterator[RecordedRow]:
        window = model._default_manager.filter(
            submitted_at__lt=until, status=SubmissionStatus.RECORDED
        )
        if since is not None:
            window = window.filter(submitted_at__gte=since)
        found = window.order_by("-submitted_at").values_list("pk", *_COLUMNS)
        for values in found.iterator(chunk_size=CHUNK):
            yield _row(*values)

    return recorded_between
