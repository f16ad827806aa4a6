"""compose's prometheus-config, the check before Prometheus starts, run as compose runs it
(its entrypoint, in its working folder) on a copy of deploy/prometheus, with promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.compose import SERVICES
from tests.support.prometheus import PROMETHEUS

CHECK = SERVICES["prometheus-config"]


def run_check(folder: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (bin/test installs Debian's prometheus as root)")
    [mount] = CHECK["volumes"]
    source, target, _ = mount.split(":")
    assert source == "./deploy/prometheus"
    assert CHECK["working_dir"] == target  # the mounted folder: the script's paths are its
    return subprocess.run(
        CHECK["entrypoint"], cwd=folder, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def deploy_copy(tmp_path: Path) -> Path:
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(PROMETHEUS / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("token", ["missing", "directory", "empty"])
def test_without_a_token_file_it_stops_the_profile_saying_why(
    deploy_copy: Path, token: str
) -> None:
    if token == "directory":
        (deploy_copy / "token").mkdir()  # what Docker leaves for a missing bind-mounted file
    elif token == "empty":
        (deploy_copy / "token").write_text("")
    result = run_check(deploy_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deploy/prometheus/token must be a non-empty file" in result.stderr


def test_with_a_token_the_real_configuration_and_rules_pass_promtool(deploy_copy: Path) -> None:
    (deploy_copy / "token").write_text("an-api-token\n")
    result = run_check(deploy_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "prometheus.yml is valid prometheus config file syntax" in result.stdout
    assert "SUCCESS: 7 rules found" in result.stdout  # alerts.yml, found beside it


def test_a_broken_configuration_is_refused_too(deploy_copy: Path) -> None:
    (deploy_copy / "token").write_text("an-api-token\n")
    (deploy_copy / "alerts.yml").unlink()
    result = run_check(deploy_copy)
    assert result.returncode != 0
