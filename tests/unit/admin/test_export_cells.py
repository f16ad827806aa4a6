"""The export's CSV cells and keyset condition, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from config.adminkit.export import csv_cell, csv_lines, rows_after


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        (-1, "-1"),  # a number is no formula
        (None, ""),
        (True, "true"),
        (["=a", "b"], '["=a", "b"]'),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05+00:00"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_defused(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_csv_lines_quote_and_stop_at_the_limit() -> None:
    lines = list(csv_lines(["a", "b"], iter([("x,y", "=z"), ("1", "2"), ("3", "4")]), limit=2))
    assert lines == ["a,b\r\n", '"x,y",\'=z\r\n', "1,2\r\n"]


def test_the_keyset_condition_is_lexicographic_in_the_order() -> None:
    condition = str(rows_after(("-submitted_at", "-pk"), (1, 2)))
    assert condition.startswith("(AND: ('submitted_at__lte', 1)")  # the index's start
    assert "('submitted_at__lt', 1)" in condition
    assert "('submitted_at', 1), ('pk__lt', 2)" in condition
    assert "('id__gt', 5)" in str(rows_after(("id",), (5,)))
