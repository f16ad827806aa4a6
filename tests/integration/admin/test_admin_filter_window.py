"""A filter on a column without an index searches the latest rows only, says so when that
left rows out, and a date range reaches the older ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from controlplane.models import StrategySubmission, SubmissionStatus
from tests.support.history_rows import seed_history_rows

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/controlplane/strategysubmission/"
NOTICE = "Filtered among the latest 5 rows"
ACCEPTED = "?status__exact=accepted"


def _old_accepted_row(days: int = 30) -> StrategySubmission:
    """One accepted submission `days` old, under newer recorded ones."""
    row = StrategySubmission.objects.order_by("submitted_at").first()
    assert row is not None
    row.status = SubmissionStatus.ACCEPTED
    row.submitted_at = timezone.now() - timedelta(days=days)
    row.save(update_fields=["status", "submitted_at"])
    return row


@pytest.fixture
def window_of_five(settings: Any) -> None:
    settings.ADMIN_FILTER_SCAN_ROWS = 5


def test_no_notice_when_the_window_holds_every_row(
    admin_client: Client, window_of_five: None
) -> None:
    seed_history_rows(5, timezone.now() - timedelta(hours=1))
    old = _old_accepted_row()
    page = admin_client.get(f"{CHANGELIST}{ACCEPTED}").content.decode()
    assert str(old.pk) in page
    assert "Filtered among" not in page


def test_the_notice_says_the_window_left_rows_out_and_a_date_range_reaches_them(
    admin_client: Client, window_of_five: None
) -> None:
    seed_history_rows(20, timezone.now() - timedelta(hours=1))
    old = _old_accepted_row()
    page = admin_client.get(f"{CHANGELIST}{ACCEPTED}").content.decode()
    assert str(old.pk) not in page  # older than the latest 5
    assert NOTICE in page
    assert "choose a date range" in page
    assert "Filtered among" not in admin_client.get(CHANGELIST).content.decode()

    start = old.submitted_at - timedelta(days=1)
    dated = urlencode({"submitted_at__gte": start, "submitted_at__lt": start + timedelta(days=2)})
    page = admin_client.get(f"{CHANGELIST}{ACCEPTED}&{dated}").content.decode()
    assert str(old.pk) in page
    assert "Filtered among" not in page


def test_an_export_of_a_windowed_filter_applies_the_window_and_says_so(
    admin_client: Client, window_of_five: None
) -> None:
    seed_history_rows(20, timezone.now() - timedelta(hours=1))
    old = _old_accepted_row()
    response: Any = admin_client.get(f"{CHANGELIST}export/csv/{ACCEPTED}")
    body = b"".join(response.streaming_content).decode()
    assert str(old.pk) not in body
    assert response["X-Filter-Window-Rows"] == "5"
    unfiltered: Any = admin_client.get(f"{CHANGELIST}export/csv/")
    b"".join(unfiltered.streaming_content)
    assert "X-Filter-Window-Rows" not in unfiltered


def test_the_window_is_taken_after_the_other_filters(
    admin_client: Client, window_of_five: None
) -> None:
    # The downgrade filter and the status filter are both windowed: neither narrows the
    # rows the window is taken from, so the old row stays out of both together.
    seed_history_rows(20, timezone.now() - timedelta(hours=1))
    old = _old_accepted_row()
    page = admin_client.get(f"{CHANGELIST}{ACCEPTED}&downgraded__exact=0").content.decode()
    assert str(old.pk) not in page
    assert NOTICE in page
