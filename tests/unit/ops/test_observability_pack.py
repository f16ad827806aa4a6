"""The observability pack in deploy/: Prometheus alerting rules (each with a promtool unit
test), the scrape configuration and the Grafana dashboard, held to the metrics that
/metrics really serves."""

from __future__ import annotations

import yaml

from tests.support.prometheus import PROMETHEUS, alert_rules


def test_every_alert_has_a_unit_test_and_what_to_do() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    fired = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    alerts = {rule["alert"] for rule in alert_rules()}
    assert len(alerts) >= 7
    assert tested == alerts
    assert fired == alerts  # each test shows its alert firing, not only staying quiet
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]


def test_the_scrape_configuration_reads_the_rules_and_a_token_file() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]  # beside it
    [job] = config["scrape_configs"]
    assert job["job_name"] == "controlplane"  # the alerts' `up{job=...}` names it
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["credentials_file"] == "token"
