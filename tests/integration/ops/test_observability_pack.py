"""The observability pack in deploy/: Prometheus alerting rules (each with a promtool unit
test), the scrape configuration and the Grafana dashboard, held to the metrics that
/metrics really serves."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.paths import ROOT
from tests.support.prometheus import alert_rules

DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "controlplane.json"
METRIC = re.compile(r"\b(controlplane_[a-z_]+)")


def _served_names() -> set[str]:
    """Every sample name /metrics renders (histogram and counter suffixes included)."""
    from controlplane.ops.metrics import render_metrics

    text = render_metrics().decode()
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}
    names |= {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    return {name for name in names if name}


@pytest.mark.django_db
def test_the_rules_and_the_dashboard_use_only_metrics_that_are_served() -> None:
    served = _served_names()
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [rule["expr"] for rule in alert_rules()]
    exprs += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    assert used, exprs
    assert used <= served, sorted(used - served)
    assert dashboard["uid"] == "controlplane"
    assert len(dashboard["panels"]) >= 8
