"""The admin's "In the log" panel against a real PostgreSQL and Kafka-protocol broker: the
record read at a row's partition and offset, its verdicts (same bytes or not, signature),
and the errors (broker away, an offset past the log's end or without a record) shown in
the panel of a page that still renders."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from rest_framework.test import APIClient

from commitlog.conf import CommitLogSettings
from commitlog.kafka import OutgoingRecord
from commitlog.models import OutboxEvent
from commitlog.records import value_digest
from controlplane.models import RebalanceBatch, StrategySubmission
from devstack.kafka import EmbeddedKafka
from tests.support.bodies import make_dag, submission_body
from tests.support.flow import consume_to_end, produce_straight, relay_all, submit_strategies
from tests.support.in_the_log import field, page, submission_page
from tests.support.kafka_reader import read_topic

pytestmark = pytest.mark.django_db(transaction=True)
SIGNING_KEY = "s" * 40


@pytest.fixture
def recorded(commitlog: CommitLogSettings, api: APIClient) -> str:
    """A submission and a batch through the relay and the consumer: recorded."""
    (strategy_id,) = submit_strategies(1, prefix="log")
    api.post(
        "/rebalancing/batches",
        {"world_id": "alpha", "scope": "per_world", "orders": [{"symbol": "A", "quantity": 1}]},
        format="json",
    )
    relay_all()
    consume_to_end(commitlog)
    assert StrategySubmission.objects.get().status == "recorded"
    return strategy_id


def test_a_recorded_submission_shows_its_record_and_the_same_bytes(
    admin_client: Client, recorded: str, commitlog: CommitLogSettings
) -> None:
    row = StrategySubmission.objects.get()
    outbox = OutboxEvent.objects.get(aggregate_id=recorded)
    html = page(admin_client, submission_page(recorded))
    assert 'data-verdict="same"' in html
    assert field(html, "key") == f"ingest:{recorded}"
    position = f"partition {row.commitlog_partition}, offset {row.commitlog_offset}"
    assert field(html, "position") == f"{commitlog.commitlog_topic} {position}"
    assert field(html, "size") == f"{len(bytes(outbox.value))} bytes"
    assert field(html, "signature") == "not signed"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", field(html, "timestamp"))
    assert field(html, "digest") == field(html, "expected-digest") == row.commitlog_sha256
    # The value decoded and indented: the record's tuple, one element a line.
    value = field(html, "value")
    assert '"gateway.ingest"' in value
    assert f'"{recorded}"' in value
    assert "\n  " in value


def test_a_batch_and_an_outbox_row_show_their_record_too(
    admin_client: Client, recorded: str
) -> None:
    batch = RebalanceBatch.objects.get()
    html = page(admin_client, f"/admin/controlplane/rebalancebatch/{batch.pk}/change/")
    assert 'data-verdict="same"' in html
    assert field(html, "key") == f"rebalance:{batch.pk}"
    outbox = OutboxEvent.objects.get(aggregate_id=recorded)
    html = page(admin_client, f"/admin/commitlog/outboxevent/{outbox.pk}/change/")
    assert 'data-verdict="same"' in html
    assert field(html, "expected-digest") == value_digest(bytes(outbox.value))
    assert field(html, "key") == outbox.key


def test_the_record_is_shown_escaped(
    admin_client: Client, commitlog: CommitLogSettings, api: APIClient
) -> None:
    body = submission_body(make_dag("esc-a", "esc-b"), meta={"note": "<b>hi</b>"})
    strategy_id = api.post("/strategies", body, format="json").json()["strategy_id"]
    relay_all()
    html = page(admin_client, submission_page(strategy_id))
    panel = html[html.index('id="cp-in-the-log"') :]
    assert "&lt;b&gt;hi&lt;/b&gt;" in panel
    assert "<b>hi</b>" not in panel


def test_a_row_recorded_from_other_bytes_differs(admin_client: Client, recorded: str) -> None:
    StrategySubmission.objects.update(commitlog_sha256="0" * 64)
    html = page(admin_client, submission_page(recorded))
    assert 'data-verdict="differs"' in html
    assert 'data-verdict="same"' not in html


def test_a_signed_record_gets_the_signatures_verdict(
    admin_client: Client, commitlog: CommitLogSettings, settings: Any
) -> None:
    settings.COMMITLOG_SIGNING_KEYS = (SIGNING_KEY,)
    (strategy_id,) = submit_strategies(1, prefix="signed")
    relay_all()
    consume_to_end(commitlog)
    html = page(admin_client, submission_page(strategy_id))
    assert field(html, "signature") == "valid signature"
    assert "commitlog-hmac-sha256: " in field(html, "headers")
    settings.COMMITLOG_SIGNING_KEYS = ("another-key" * 4,)
    html = page(admin_client, submission_page(strategy_id))
    assert field(html, "signature") == "record signature does not match"
    settings.COMMITLOG_SIGNING_KEYS = ()
    html = page(admin_client, submission_page(strategy_id))
    assert field(html, "signature") == "signed; no key is configured here to check it"


def test_an_offset_past_the_logs_end_is_an_error_in_the_panel(
    admin_client: Client, recorded: str
) -> None:
    StrategySubmission.objects.update(commitlog_offset=10_000)
    html = page(admin_client, submission_page(recorded))
    assert 'data-error-kind="beyond_end"' in html
    assert "offset 10000 is beyond the log's end" in field(html, "error")
    assert "data-verdict" not in html


def test_an_offset_without_a_record_is_an_error_in_the_panel(
    admin_client: Client, recorded: str, commitlog: CommitLogSettings
) -> None:
    # Each transaction ends with its commit marker, an offset no consumer is shown: the
    # same record produced again (same key, so the same partition) leaves one behind it.
    outbox = OutboxEvent.objects.get(aggregate_id=recorded)
    produce_straight(commitlog, [OutgoingRecord(outbox.key.encode(), bytes(outbox.value))])
    in_partition = read_topic(commitlog.commitlog_bootstrap, commitlog.commitlog_topic)
    offsets = {r.offset for r in in_partition if r.partition == outbox.published_partition}
    marker = min(o for o in range(max(offsets)) if o not in offsets)
    StrategySubmission.objects.update(commitlog_offset=marker)
    html = page(admin_client, submission_page(recorded))
    assert 'data-error-kind="pruned"' in html
    assert f"no record at offset {marker}" in field(html, "error")


def test_an_unpublished_row_says_so(admin_client: Client, commitlog: CommitLogSettings) -> None:
    (strategy_id,) = submit_strategies(1, prefix="pending")
    html = page(admin_client, submission_page(strategy_id))
    assert 'data-log="unpublished"' in html


def test_the_broker_away_is_an_error_in_the_panel(
    admin_client: Client, private_broker: EmbeddedKafka, settings: Any
) -> None:
    (strategy_id,) = submit_strategies(1, prefix="away")
    relay_all()
    StrategySubmission.objects.update(commitlog_sha256="0" * 64)
    settings.COMMITLOG_VIEW_TIMEOUT_SECONDS = 1.0
    private_broker.stop()
    html = page(admin_client, submission_page(strategy_id))
    assert 'data-error-kind="unreachable"' in html
    assert "the broker did not answer within 1 s" in field(html, "error")


def test_staff_without_the_operations_permission_see_no_panel(
    client: Client, recorded: str
) -> None:
    viewer = User.objects.create_user("viewer", password="pw-123-long", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_strategysubmission"))
    client.force_login(viewer)
    html = page(client, submission_page(recorded))
    assert "cp-in-the-log" not in html
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxevent"))
    client.force_login(User.objects.get(pk=viewer.pk))  # permissions are cached per user
    assert 'data-verdict="same"' in page(client, submission_page(recorded))
