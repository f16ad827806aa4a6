"""No value forges a log line (the one formatter of every process, and a real server's
output), and the admin's links survive any stored id (real PostgreSQL)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from config.logs import FORMAT, KeyValueFormatter, quote_value
from tests.support.logs import FORGED


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain-id:1", "plain-id:1"),
        ("test client", '"test client"'),
        ("a\nb", '"a\\nb"'),
        ('say "x"=1', '"say \\"x\\"=1"'),
        ("w\u202e1", '"w\\u202e1"'),
        ("back\\slash", '"back\\\\slash"'),
        ("", '""'),
    ],
)
def test_values_that_could_split_or_disguise_a_line_are_quoted(value: str, shown: str) -> None:
    assert quote_value(value) == shown


def _formatted(message: str, *args: Any, exc_info: Any = None) -> str:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, message, args, exc_info)
    return KeyValueFormatter(FORMAT).format(record)


def test_a_record_is_one_line_whatever_its_values() -> None:
    text = _formatted("event=request_refused path=%s status=%d", f"/a\n{FORGED}", 404)
    assert "\n" not in text
    assert text.endswith(f'path="/a\\n{FORGED}" status=404')


def test_a_traceback_continues_indented_so_no_line_starts_like_a_record() -> None:
    try:
        raise ValueError(f"boom\n{FORGED}")
    except ValueError:
        import sys

        text = _formatted("event=failed", exc_info=sys.exc_info())
    first, *rest = text.splitlines()
    assert first.startswith("ts=")
    assert rest
    assert all(line.startswith("\t") for line in rest), rest


def test_the_record_keeps_its_own_arguments_for_other_handlers() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a=%s", ("b c",), None)
    KeyValueFormatter(FORMAT).format(record)
    assert record.getMessage() == "a=b c"
