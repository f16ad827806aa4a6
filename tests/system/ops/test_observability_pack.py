"""The observability pack in deploy/: Prometheus alerting rules (each with a promtool unit
test), the scrape configuration and the Grafana dashboard, held to the metrics that
/metrics really serves."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.prometheus import PROMETHEUS


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (bin/test installs Debian's prometheus as root)")
    return found


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["check", "rules", "alerts.yml"], "SUCCESS: 7 rules found"),
        (["test", "rules", "alerts_test.yml"], "SUCCESS"),
    ],
)
def test_promtool_accepts_the_rules_and_their_unit_tests_pass(
    args: list[str], expected: str
) -> None:
    result = subprocess.run(
        [_promtool(), *args],
        cwd=PROMETHEUS, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert expected in result.stdout
