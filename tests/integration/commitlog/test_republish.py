"""An operator's republish of published outbox rows: the same bytes back in Kafka, read by
the consumer as a duplicate, the actor in the log line and the admin history."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from commitlog.conf import CommitLogSettings
from commitlog.models import ConsumedRecord, OutboxEvent, OutboxState, UnreadRecord
from commitlog.outbox import republish
from controlplane.models import StrategySubmission
from controlplane.services.rebalancing import rebalance_submit
from tests.support.flow import consume_to_end, relay_all, submit_strategies
from tests.support.kafka_reader import read_topic
from tests.support.requests import single_batch

pytestmark = pytest.mark.django_db(transaction=True)
CHANGELIST = "/admin/commitlog/outboxevent/"


def _republish(client: Client, ids: list[int], query: str = "", **form: str) -> str:
    response = client.post(
        f"{CHANGELIST}{query}",
        {"action": "republish", "_selected_action": ids, **form},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_a_republished_row_is_in_kafka_again_and_the_consumer_counts_a_duplicate(
    commitlog: CommitLogSettings, admin_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="commitlog.outbox.republish")
    submit_strategies(3)
    relay_all()
    first = consume_to_end(commitlog)
    assert first.applied == 3
    row = OutboxEvent.objects.order_by("id").first()
    assert row is not None
    assert row.state == OutboxState.PUBLISHED
    before = bytes(row.value)
    submission = StrategySubmission.objects.get(strategy_id=row.aggregate_id)
    assert submission.status == "recorded"
    pending = OutboxEvent.objects.filter(state=OutboxState.PENDING).order_by("id")

    # A pending row beside it is left alone and said so.
    extra = submit_strategies(1, prefix="later")
    page = _republish(admin_client, [row.pk, pending.get(aggregate_id=extra[0]).pk])
    assert "Republishing 1 row(s) with the same bytes (1 selected row(s) were not" in page
    row.refresh_from_db()
    assert (row.state, row.attempts) == (OutboxState.PENDING, 0)

    user = User.objects.get(username="admin")
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(OutboxEvent), object_id=str(row.pk)
    )
    assert (entry.user_id, entry.action_flag, entry.change_message) == (
        user.pk,
        CHANGE,
        "Republished.",
    )
    (line,) = [r.getMessage() for r in caplog.records if "outbox_republished" in r.getMessage()]
    assert f"rows=1 first_id={row.pk} reason=operator actor=admin ids={row.pk}" in line

    relay_all()
    row.refresh_from_db()
    assert row.state == OutboxState.PUBLISHED
    assert bytes(row.value) == before
    copies = [
        r
        for r in read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)
        if r.key == row.key.encode()
    ]
    assert len(copies) == 2
    assert copies[0].value == copies[1].value == before

    again = consume_to_end(commitlog)
    assert (again.applied, again.duplicates) == (1, 1)  # the later submission, the copy
    assert ConsumedRecord.objects.count() == 4
    assert not UnreadRecord.objects.exists()
    after = StrategySubmission.objects.get(strategy_id=row.aggregate_id)
    assert (after.status, after.commitlog_partition, after.commitlog_offset) == (
        "recorded",
        submission.commitlog_partition,
        submission.commitlog_offset,
    )


def test_a_selection_over_the_bound_republishes_nothing(
    commitlog: CommitLogSettings, admin_client: Client, monkeypatch: Any
) -> None:
    submit_strategies(3)
    relay_all()
    monkeypatch.setattr(republish, "REPUBLISH_MAX_ROWS", 2)
    monkeypatch.setattr("commitlog.admin.outbox.REPUBLISH_MAX_ROWS", 2)
    ids = list(OutboxEvent.objects.values_list("id", flat=True))
    # "Select all" over the filtered list: the admin reads one row past the bound, no count.
    page = _republish(admin_client, ids[:1], "?state__exact=published", select_across="1")
    assert "Not republished: more than 2 rows selected" in page
    assert set(OutboxEvent.objects.values_list("state", flat=True)) == {OutboxState.PUBLISHED}
    with pytest.raises(republish.TooManyToRepublish):
        republish.outbox_republish(ids=ids, actor=None)


def test_staff_who_may_only_view_the_outbox_are_not_offered_republish(client: Client) -> None:
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxevent"))
    client.force_login(viewer)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    choices = [name for name, _ in page.context["action_form"].fields["action"].choices]
    assert "requeue_dead" in choices
    assert "republish" not in choices
    _republish(client, [1])
    assert not LogEntry.objects.exists()


def _hidden_inputs(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def test_a_batch_page_republishes_its_outbox_row_through_the_same_action(
    commitlog: CommitLogSettings, admin_client: Client, client: Client
) -> None:
    batch_id = (
        rebalance_submit(request=single_batch("alpha", [{"symbol": "A", "quantity": 1}]))
        .batches[0]
        .batch_id
    )
    page_url = f"/admin/controlplane/rebalancebatch/{quote(batch_id)}/change/"
    assert "is pending: not published" in admin_client.get(page_url).content.decode()
    relay_all()
    row = OutboxEvent.objects.get(aggregate_id=batch_id)

    page = admin_client.get(page_url).content.decode()
    assert f'formaction="{CHANGELIST}"' in page
    # What the browser sends: the page's form (its token, the row's id) and the button.
    form = {**_hidden_inputs(page), "action": "republish"}
    assert form["_selected_action"] == str(row.pk)
    response = admin_client.post(CHANGELIST, form, follow=True)
    assert "Republishing 1 row(s) with the same bytes." in response.content.decode()
    row.refresh_from_db()
    assert row.state == OutboxState.PENDING

    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_rebalancebatch"),
        Permission.objects.get(codename="view_outboxevent"),
    )
    client.force_login(viewer)
    seen = client.get(page_url)
    assert seen.status_code == 200
    assert "formaction" not in seen.content.decode()
