"""The dashboard's SVG charts, drawn without a server: axis, gaps and escaping."""

from __future__ import annotations

import re

import pytest

from controlplane.admin.dashboard.charts import Series, line_chart, nice_ceiling


@pytest.mark.parametrize(
    ("peak", "top"), [(0, 1), (0.4, 1), (1, 1), (3, 5), (7, 10), (12, 20), (2001, 5000)]
)
def test_the_axis_tops_at_one_two_or_five_times_a_power_of_ten(peak: float, top: float) -> None:
    assert nice_ceiling(peak) == top


def test_a_gap_is_not_drawn_as_zero_and_a_lone_point_is_a_dot() -> None:
    series = Series("lag", "lag", "#000", [1, 2, None, None, 4, None])
    svg = line_chart(slug="lag-hour", title="Lag", series=[series], start="10:00", end="10:05")
    assert svg.count("<polyline") == 1  # the run 1, 2; the 4 stands alone
    assert svg.count("<circle") == 1
    assert 'data-total="7" data-peak="4"' in svg
    assert 'data-max="5"' in svg
    polyline = re.search(r'<polyline points="([^"]+)"', svg)
    assert polyline is not None
    assert len(polyline.group(1).split()) == 2


def test_labels_are_escaped() -> None:
    series = Series("s", "<b>", "#000", [0.0])
    svg = line_chart(slug="x", title="<script>", series=[series], start="a&b", end="z")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "a&amp;b" in svg
