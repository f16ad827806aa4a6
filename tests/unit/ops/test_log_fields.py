"""Every log line is logfmt: each field one `key=value`, the time included, never several
pairs inside one quoted value; Celery's per-task lines are DEBUG lines."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from commitlog.kafka.librdkafka import LIBRDKAFKA_LOGGER
from commitlog.upkeep.prune import PruneRun
from config.logs import FORMAT, KeyValueFormatter
from tests.support.logs import logfmt_fields
from tests.support.paths import ROOT


def _line(name: str, message: str, *args: object, level: int = logging.INFO) -> str:
    record = logging.LogRecord(name, level, __file__, 1, message, args, None)
    return KeyValueFormatter(FORMAT).format(record)


def test_the_parser_refuses_pairs_inside_one_value_and_bare_words() -> None:
    with pytest.raises(AssertionError):
        logfmt_fields('event=x "worlds=* scopes=*"')
    with pytest.raises(AssertionError):
        logfmt_fields("event=x FAIL [rdkafka#consumer-1]")
    assert logfmt_fields('a=1 b="c d\\"e\\n"') == {"a": "1", "b": 'c d"e\n'}


def test_the_time_is_one_field() -> None:
    fields = logfmt_fields(_line("controlplane", "event=x"))
    assert datetime.strptime(fields["ts"], "%Y-%m-%dT%H:%M:%S.%f")
    assert (fields["level"], fields["logger"], fields["event"]) == ("INFO", "controlplane", "x")


def test_the_prune_summary_is_a_field_each() -> None:
    run = PruneRun(
        cutoff=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        deleted={"outbox rows": 3, "dedup marks": 0},
        transactions=4,
        longest_transaction_s=0.01234,
        finished=False,
    )
    fields_format, values = run.log_fields()
    fields = logfmt_fields(_line("commitlog", f"event=commitlog_pruned {fields_format}", *values))
    assert fields["event"] == "commitlog_pruned"
    assert fields["cutoff"] == "2026-12-01T10:00:00+00:00"
    assert (fields["outbox_rows"], fields["dedup_marks"]) == ("3", "0")
    assert (fields["transactions"], fields["longest_transaction_ms"]) == ("4", "12.3")
    assert fields["finished"] == "False"


def test_a_librdkafka_line_is_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="commitlog.kafka.librdkafka")
    text = "[thrd:127.0.0.1:1/bootstrap]: Connect to ipv4#127.0.0.1:1 failed: Connection refused"
    # As confluent-kafka hands a line to the logger it is given.
    LIBRDKAFKA_LOGGER.log(logging.ERROR, "%s [%s] %s", "FAIL", "rdkafka#consumer-1", text)
    (record,) = caplog.records
    fields = logfmt_fields(KeyValueFormatter(FORMAT).format(record))
    assert (fields["level"], fields["event"]) == ("ERROR", "librdkafka")
    assert (fields["facility"], fields["client"], fields["message"]) == (
        "FAIL", "rdkafka#consumer-1", text,
    )  # fmt: skip


# Celery's own loggers and formats, configured as every process of ours configures them.
CELERY_LINES = """
import logging.config, sys
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS
from config.logs import logging_config
logging.config.dictConfig(logging_config(sys.argv[1]))
task = {"id": "1", "name": "commitlog.relay_outbox", "args": "()", "kwargs": "{}", "eta": None,
        "runtime": 0.01, "return_value": None}
logging.getLogger("celery.worker.strategy").info(LOG_RECEIVED, task)
logging.getLogger("celery.app.trace").info(LOG_SUCCESS, task)
logging.getLogger("celery.beat").info("Scheduler: Sending due task %s (%s)", "relay-outbox", "x")
logging.getLogger("celery.app.trace").info("Task %s[%s] retry: %s", "t", "1", "boom")
logging.getLogger("celery.app.trace").error("Task %s[%s] raised unexpected: %s", "t", "1", "E")
"""


def _celery_output(level: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", CELERY_LINES, level],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=True,
    )  # fmt: skip
    return done.stderr.splitlines()


def test_celerys_per_task_lines_are_debug_lines() -> None:
    quiet = _celery_output("INFO")
    assert not [line for line in quiet if "received" in line or "succeeded" in line], quiet
    assert not [line for line in quiet if "Sending due task" in line], quiet
    # Celery's own text follows the fields of our prefix (ts, level, logger).
    assert [line.split(" ")[1] for line in quiet] == ["level=INFO", "level=ERROR"], quiet

    verbose = _celery_output("DEBUG")
    shown = {line.split(" logger=")[1].split(" ")[0]: line for line in verbose}
    for logger in ("celery.worker.strategy", "celery.beat"):
        assert " level=DEBUG " in shown[logger], verbose
    success = [line for line in verbose if "succeeded in" in line]
    assert len(success) == 1
    assert " level=DEBUG " in success[0]
