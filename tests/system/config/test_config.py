"""Configuration: YAML plus environment, profiles, and refusing to start in prod."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.commands import PROD_ENV, PROJECT_COMMANDS, manage, write_config
from tests.support.paths import ROOT


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, "commitlog_bootstrap"),
        ({"COMMITLOG_BOOTSTRAP": "k:9092", "COMMITLOG_TOPIC": "  "}, None),
        ({"COMMITLOG_BOOTSTRAP": "k:9092", "DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"COMMITLOG_BOOTSTRAP": "k:9092", "API_ALLOW_ANONYMOUS": "true"}, "API_ALLOW_ANONYMOUS"),
        ({"COMMITLOG_BOOTSTRAP": "k:9092", "CELERY_BROKER_URL": ""}, "CELERY_BROKER_URL"),
    ],
)
def test_prod_process_refuses_to_start_with_one_line(
    environ: dict[str, str], missing: str | None
) -> None:
    result = manage("check", **{**PROD_ENV, **environ})
    if missing is None:  # a blank topic variable falls back to the default topic
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr


def test_prod_with_a_complete_configuration_passes_the_deploy_check() -> None:
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", COMMITLOG_BOOTSTRAP="k:9092", **PROD_ENV
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "writer is disabled" not in result.stderr


def test_dev_without_bootstrap_warns_that_the_writer_is_disabled() -> None:
    result = manage("check", PROFILE="dev")
    assert result.returncode == 0, result.stderr
    assert "(commitlog.W001) the commit-log writer is disabled" in result.stderr


def test_dev_with_bootstrap_does_not_warn() -> None:
    result = manage("check", PROFILE="dev", COMMITLOG_BOOTSTRAP="127.0.0.1:9")
    assert result.returncode == 0, result.stderr
    assert "writer is disabled" not in result.stderr


def test_no_migration_is_missing() -> None:
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_missing_prod_setting_is_named_at_once() -> None:
    result = manage("check", PROFILE="prod", DJANGO_SECRET_KEY="", CELERY_BROKER_URL="")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("controlplane: configuration error: ") for line in lines), lines
    named = " ".join(lines)
    for setting in ("commitlog_bootstrap", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"):
        assert setting in named, lines
    assert "CELERY_BROKER_URL" in named
    assert "Traceback" not in result.stderr


def test_bad_values_are_one_line_each() -> None:
    result = manage(
        "check", API_MAX_BODY_BYTES="abc", DATABASE_URL="notaurl", RELAY_MAX_ATTEMPTS="-1"
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "controlplane: configuration error: DATABASE_URL='notaurl' is not a "
        "postgres://user@host:port/name URL",
        "controlplane: configuration error: API_MAX_BODY_BYTES='abc' is not a whole number",
        "controlplane: configuration error: RELAY_MAX_ATTEMPTS=-1 is below its minimum of 1",
    ]


def test_unknown_yaml_keys_are_warned_about(tmp_path: Path) -> None:
    path = write_config(tmp_path, "gateway:\n  commitlog_topik: x\nretention_days: 3\n")
    result = manage("check", CONTROLPLANE_CONFIG=path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "configuration warning" in line]
    assert warnings == [
        "controlplane: configuration warning: retention_days (top level) is not a setting",
        "controlplane: configuration warning: gateway.commitlog_topik is not a setting",
    ]


@pytest.mark.parametrize("name", PROJECT_COMMANDS)
def test_help_prints_no_start_up_notice(name: str) -> None:
    result = manage(name, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("role", ["worker", "beat"])
def test_celery_reports_a_bad_configuration_as_lines(role: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMITLOG_", "PROFILE"))}
    env["RELAY_MAX_ATTEMPTS"] = "-1"
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "config", role],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "controlplane: configuration error: RELAY_MAX_ATTEMPTS=-1 is below its minimum of 1"
    ]


def test_importing_the_code_loads_no_settings() -> None:
    # Only an entry point (manage.py, wsgi, gunicorn, `celery`) reads the configuration:
    # importing a module with a bad one neither exits nor raises.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMITLOG_", "PROFILE"))}
    env["RELAY_MAX_ATTEMPTS"] = "-1"
    code = "import controlplane.domain.dag, config.celery, django.conf as c\n"
    code += "print(c.settings.configured)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert (result.returncode, result.stdout.strip()) == (0, "False"), result.stderr
