"""manage.py ensure_commitlog_topic against a real Kafka-protocol broker."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError

from tests.support.commands import ensure_topic_command


def test_without_a_bootstrap_it_says_so(settings: Any) -> None:
    settings.COMMITLOG_BOOTSTRAP = ""
    with pytest.raises(CommandError, match="no commitlog_bootstrap"):
        ensure_topic_command()
