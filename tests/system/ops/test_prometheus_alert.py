"""A real Prometheus scrapes a running control plane with an API credential and fires the
consumer alert when the consumer process stops. The rule is alerts.yml's own expression
with its threshold and hold cut to seconds, so the test takes seconds, not minutes."""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from commitlog.conf import CommitLogSettings
from commitlog.models import ConsumerPosition
from controlplane.services.credentials import credential_issue
from devstack.net import free_port
from tests.support.flow import relay_all, submit_strategies
from tests.support.paths import ROOT
from tests.support.processes import ChildProcess, database_url, retire, service_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT = "ControlPlaneConsumerSilent"


def _fast_rule() -> dict[str, Any]:
    rules = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    [rule] = [r for r in rules if r["alert"] == ALERT]
    assert rule["expr"].endswith("> 120")
    return {**rule, "expr": rule["expr"].removesuffix("> 120") + "> 3", "for": "0s"}


@pytest.fixture
def prometheus(live_server: Any) -> Iterator[tuple[str, ChildProcess]]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (bin/test installs Debian's package as root)")
    work = Path(tempfile.mkdtemp(prefix="controlplane-prometheus-"))
    (work / "token").write_text(credential_issue(name="prometheus").token)
    (work / "rules.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "fast", "rules": [_fast_rule()]}]})
    )
    host = live_server.url.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(work / "rules.yml")],
        "scrape_configs": [
            {
                "job_name": "controlplane",
                "metrics_path": "/metrics",
                "authorization": {"credentials_file": str(work / "token")},
                "static_configs": [{"targets": [host]}],
            }
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    child = ChildProcess(
        "prometheus",
        [
            binary,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        env={"PATH": "/usr/bin:/bin"},
        cwd=work,
        log_path=work / "prometheus.log",
    ).start()
    try:
        yield f"http://127.0.0.1:{port}", child
    finally:
        child.stop()
        shutil.rmtree(work, ignore_errors=True)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (a local test URL)
        return json.loads(response.read())


def _alert_states(base: str) -> dict[str, str]:
    try:
        alerts = _get(f"{base}/api/v1/alerts")["data"]["alerts"]
    except OSError:
        return {}
    return {
        a["labels"].get("group", ""): a["state"]
        for a in alerts
        if a["labels"]["alertname"] == ALERT
    }


def _heartbeat_age(base: str, group: str) -> float | None:
    """The consumer's heartbeat age as Prometheus last scraped it, None before any."""
    query = "controlplane_consumer_heartbeat_age_seconds"
    try:
        result = _get(f"{base}/api/v1/query?query={query}")["data"]["result"]
    except OSError:
        return None
    ages = [float(r["value"][1]) for r in result if r["metric"].get("group") == group]
    return ages[0] if ages else None


def test_prometheus_fires_the_consumer_alert_when_the_consumer_stops(
    commitlog: CommitLogSettings, prometheus: tuple[str, ChildProcess]
) -> None:
    base, server = prometheus
    consumer = service_process(
        ["manage.py", "consume_commitlog"],
        {
            "PROFILE": "dev",
            "DATABASE_URL": database_url(),
            "COMMITLOG_BOOTSTRAP": commitlog.commitlog_bootstrap,
            "COMMITLOG_TOPIC": commitlog.commitlog_topic,
            "COMMITLOG_GROUP": commitlog.commitlog_group,
            "CONSUMER_HEARTBEAT_SECONDS": "0.5",
            "CONSUMER_SESSION_TIMEOUT_MS": "6000",
        },
    )
    try:
        consumer.wait_for_line("event=consumer_assigned", 60)
        # A consumer reports once it has read something: one submission through the log.
        submit_strategies(1)
        relay_all()
        group = commitlog.commitlog_group
        wait_for(lambda: ConsumerPosition.objects.filter(group=group).exists(), 60, "a heartbeat")
        # Scraped through the credential while the consumer reports: young, and no alert.
        wait_for(
            lambda: (_heartbeat_age(base, group) or 99) < 3,
            60,
            f"Prometheus to scrape a fresh heartbeat:\n{server.output()}",
        )
        assert _alert_states(base).get(group) is None
    finally:
        retire(consumer)
    wait_for(lambda: _alert_states(base).get(group) == "firing", 60, f"{ALERT} to fire")
