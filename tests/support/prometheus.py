"""The Prometheus pack of deploy/prometheus and its alert rules."""

from __future__ import annotations

from typing import Any

import yaml

from tests.support.paths import ROOT

PROMETHEUS = ROOT / "deploy" / "prometheus"


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]
