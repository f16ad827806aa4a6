"""The observability pack in deploy/: Prometheus alerting rules (each with a promtool unit
test), the scrape configuration and the Grafana dashboard, held to the metrics that
/metrics really serves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "controlplane.json"
METRIC = re.compile(r"\b(controlplane_[a-z_]+)")


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _served_names() -> set[str]:
    """Every sample name /metrics renders (histogram and counter suffixes included)."""
    from controlplane.ops.metrics import render_metrics

    text = render_metrics().decode()
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}
    names |= {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    return {name for name in names if name}


def test_every_alert_has_a_unit_test_and_what_to_do() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    fired = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    alerts = {rule["alert"] for rule in _rules()}
    assert len(alerts) >= 7
    assert tested == alerts
    assert fired == alerts  # each test shows its alert firing, not only staying quiet
    for rule in _rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]


@pytest.mark.django_db
def test_the_rules_and_the_dashboard_use_only_metrics_that_are_served() -> None:
    served = _served_names()
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [rule["expr"] for rule in _rules()]
    exprs += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    assert used, exprs
    assert used <= served, sorted(used - served)
    assert dashboard["uid"] == "controlplane"
    assert len(dashboard["panels"]) >= 8


def test_the_scrape_configuration_reads_the_rules_and_a_token_file() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    [job] = config["scrape_configs"]
    assert job["job_name"] == "controlplane"  # the alerts' `up{job=...}` names it
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["credentials_file"] == "/etc/prometheus/token"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (bin/test installs Debian's prometheus as root)")
    return found


@pytest.mark.system
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
