"""The one-statement writes name their states as literals: each is held to its enum here."""

from __future__ import annotations

import re

from commitlog.models import OutboxState
from commitlog.outbox import write
from controlplane.models import SubmissionStatus
from controlplane.services import submission_store


def test_the_outbox_row_is_written_pending() -> None:
    assert re.search(r"'(\w+)', 0, %\(outbox_at\)s", write.OUTBOX_ROW_INSERT).group(1) == (
        OutboxState.PENDING.value
    )


def test_the_submission_is_written_accepted_with_its_outbox_row() -> None:
    statement = submission_store._INSERT_BOTH
    assert re.search(r"%\(meta\)s, '(\w+)'", statement).group(1) == SubmissionStatus.ACCEPTED.value
    assert "INSERT INTO commitlog_outboxevent" in statement
    assert statement.startswith("WITH domain_row AS (")
