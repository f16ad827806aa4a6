"""manage.py ensure_commitlog_topic against a real Kafka-protocol broker."""

from __future__ import annotations

from dataclasses import replace
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ensure_commitlog_topic", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_without_a_bootstrap_it_says_so(settings: Any) -> None:
    settings.GATEWAY = replace(settings.GATEWAY, commitlog_bootstrap="")
    with pytest.raises(CommandError, match="no commitlog_bootstrap"):
        run()
