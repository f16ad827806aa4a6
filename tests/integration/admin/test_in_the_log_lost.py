"""The admin's "In the log" panel when the row's record is no longer there or the broker
falls silent, against a real PostgreSQL and Kafka-protocol broker: an offset before the
log's start, the topic deleted and made again under the row (its offset then past the
new log's end, then holding another record), and a broker behind the fault proxy
blackholed before the read or between the watermarks and the fetch. Each is an error or
a verdict in the panel of a page that renders within the view's timeout."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from django.test import Client

from commitlog.conf import CommitLogSettings
from commitlog.kafka import reader
from commitlog.upkeep.topics import commitlog_topic_ensure
from controlplane.models import StrategySubmission
from devstack.process import wait_for
from reliability.proxy import Link
from tests.support.flow import consume_to_end, relay_all, submit_strategies
from tests.support.in_the_log import field, page, page_within, submission_page

pytestmark = pytest.mark.django_db(transaction=True)

VIEW_TIMEOUT_S = 2.0
# How long past the view's timeout the page may take: generous, for a small shared
# machine; a page held by a silent broker would take minutes, not seconds.
MARGIN_S = 20.0


def recorded_submission(commitlog: CommitLogSettings) -> StrategySubmission:
    (strategy_id,) = submit_strategies(1, prefix="lost")
    relay_all()
    consume_to_end(commitlog)
    row = StrategySubmission.objects.get(pk=strategy_id)
    assert row.status == "recorded"
    return row


def test_an_offset_before_the_logs_start_is_pruned(
    admin_client: Client, commitlog: CommitLogSettings
) -> None:
    # The embedded broker's log always starts at 0: it has no DeleteRecords (its memory
    # storage leaves the request unimplemented), no retention and no compaction. So the
    # row's offset is moved below 0, the one position before that start; a pruned
    # record's offset below a later start meets the same comparison.
    row = recorded_submission(commitlog)
    StrategySubmission.objects.update(commitlog_offset=-1)
    html = page(admin_client, submission_page(str(row.pk)))
    assert 'data-error-kind="pruned"' in html
    assert field(html, "error") == "offset -1 is before the log's start (0): pruned"
    assert "data-verdict" not in html


def _delete_topic(commitlog: CommitLogSettings) -> None:
    admin = AdminClient({"bootstrap.servers": commitlog.commitlog_bootstrap})
    for done in admin.delete_topics([commitlog.commitlog_topic]).values():
        done.result(15)
    wait_for(
        lambda: commitlog.commitlog_topic not in admin.list_topics(timeout=5).topics,
        15,
        "the topic to be gone",
    )


def _fill_partition(commitlog: CommitLogSettings, partition: int, count: int) -> None:
    """`count` records of other keys from offset 0, outside any transaction, so no commit
    marker takes an offset among them."""
    producer = Producer({"bootstrap.servers": commitlog.commitlog_bootstrap})
    for n in range(count):
        producer.produce(
            commitlog.commitlog_topic, key=f"other:{n}", value=b"{}", partition=partition
        )
    assert producer.flush(15) == 0


def test_a_topic_made_again_under_the_row(
    admin_client: Client, commitlog: CommitLogSettings
) -> None:
    row = recorded_submission(commitlog)
    assert row.commitlog_partition is not None
    assert row.commitlog_offset is not None
    path = submission_page(str(row.pk))
    _delete_topic(commitlog)
    html = page(admin_client, path)
    assert 'data-error-kind="failed"' in html
    assert field(html, "error").startswith("the broker refused the read: ")

    commitlog_topic_ensure(partitions=3, replication_factor=1)
    html = page(admin_client, path)
    assert 'data-error-kind="beyond_end"' in html
    assert field(html, "error") == f"offset {row.commitlog_offset} is beyond the log's end (0)"

    # The new log grows past the row's offset: another key's record is there now.
    _fill_partition(commitlog, row.commitlog_partition, row.commitlog_offset + 1)
    html = page(admin_client, path)
    assert 'data-verdict="differs"' in html
    assert field(html, "key") == f"other:{row.commitlog_offset}"
    assert field(html, "digest") != row.commitlog_sha256
    assert field(html, "expected-digest") == row.commitlog_sha256


def published_submission(settings: Any) -> str:
    (strategy_id,) = submit_strategies(1, prefix="silent")
    relay_all()
    assert StrategySubmission.objects.get().commitlog_offset is not None
    settings.COMMITLOG_VIEW_TIMEOUT_SECONDS = VIEW_TIMEOUT_S
    return strategy_id


def test_a_blackholed_broker_is_an_error_in_a_page_that_renders(
    admin_client: Client, proxied_broker: Link, settings: Any
) -> None:
    strategy_id = published_submission(settings)
    # Connections are accepted and nothing is answered: the watermark query times out.
    proxied_broker.set_blackhole(True)
    html = page_within(admin_client, submission_page(strategy_id), VIEW_TIMEOUT_S + MARGIN_S)
    assert 'data-error-kind="unreachable"' in html
    assert field(html, "error").startswith("the broker did not answer within 2 s (")
    assert "data-verdict" not in html


def test_a_record_that_does_not_arrive_in_time_is_an_error_in_a_page_that_renders(
    admin_client: Client, proxied_broker: Link, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy_id = published_submission(settings)

    class SilencedAtAssign(Consumer):
        """The reader's own consumer; the link falls silent once the watermarks are in,
        before the fetch that assigning starts."""

        def assign(self, partitions: Any) -> None:
            proxied_broker.set_blackhole(True)
            super().assign(partitions)

    monkeypatch.setattr(reader, "Consumer", SilencedAtAssign)
    html = page_within(admin_client, submission_page(strategy_id), VIEW_TIMEOUT_S + MARGIN_S)
    assert proxied_broker.faults.blackhole  # the watermarks came, through the link
    assert 'data-error-kind="timeout"' in html
    assert field(html, "error") == "the record did not arrive within 2 s"
    assert "data-verdict" not in html
