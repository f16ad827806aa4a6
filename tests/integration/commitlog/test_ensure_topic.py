"""manage.py ensure_commitlog_topic against a real Kafka-protocol broker."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.management import CommandError

from commitlog.kafka import ensure_topic
from tests.support.commands import ensure_topic_command


@pytest.fixture
def fresh_topic(settings: Any, kafka_bootstrap: str) -> str:
    topic = f"ensure-{uuid.uuid4().hex[:8]}"
    settings.COMMITLOG_BOOTSTRAP = kafka_bootstrap
    settings.COMMITLOG_TOPIC = topic
    return topic


def test_creates_a_compacted_topic_then_finds_it_in_shape(
    fresh_topic: str, kafka_bootstrap: str
) -> None:
    out, _ = ensure_topic_command("--partitions", "2")
    assert f"created topic {fresh_topic} (2 partitions, compacted)" in out
    out, err = ensure_topic_command("--partitions", "2")
    assert "exists with the wanted configuration" in out
    assert err == ""
    report = ensure_topic(
        bootstrap=kafka_bootstrap,
        topic=fresh_topic,
        partitions=2,
        replication_factor=1,
        config={"cleanup.policy": "compact"},
    )
    assert not report.created
    assert report.differences == {}


def test_reports_an_existing_topic_that_differs(fresh_topic: str, kafka_bootstrap: str) -> None:
    ensure_topic(
        bootstrap=kafka_bootstrap,
        topic=fresh_topic,
        partitions=1,
        replication_factor=1,
        config={"cleanup.policy": "delete"},
    )
    _, err = ensure_topic_command("--partitions", "3")
    assert "partitions is '1', wanted '3'" in err
    assert "cleanup.policy is 'delete', wanted 'compact'" in err
    with pytest.raises(CommandError, match="differs"):
        ensure_topic_command("--partitions", "3", "--strict")
