"""Configuration: YAML plus environment, profiles, and refusing to start in prod."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.yaml_file import ConfigError, load_gateway_config

ROOT = Path(__file__).resolve().parent.parent

PROD_YAML = """
profile: prod
gateway:
  commitlog_bootstrap: "kafka-1:9092"
  commitlog_topic: "commit-log"
  commitlog_group: "gateway-commits"
  commitlog_transactional_id: "gateway-writer"
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "controlplane.yaml"
    path.write_text(text)
    return str(path)


def test_defaults_without_file_or_environment() -> None:
    config = load_gateway_config({})
    assert config.profile == "dev"
    assert config.commitlog_bootstrap == ""
    assert config.commitlog_topic == "commit-log"
    assert config.commitlog_group == "gateway-commits"
    assert config.commitlog_transactional_id == "gateway-writer"
    assert not config.writer_enabled


def test_yaml_file_is_read(tmp_path: Path) -> None:
    config = load_gateway_config({"CONTROLPLANE_CONFIG": write(tmp_path, PROD_YAML)})
    assert config.profile == "prod"
    assert config.commitlog_bootstrap == "kafka-1:9092"
    assert config.writer_enabled


def test_environment_overrides_the_file_and_empty_variables_do_not(tmp_path: Path) -> None:
    config = load_gateway_config(
        {
            "CONTROLPLANE_CONFIG": write(tmp_path, PROD_YAML),
            "COMMITLOG_BOOTSTRAP": "other:9093",
            "COMMITLOG_GROUP": "g2",
            "COMMITLOG_TOPIC": "",
            "PROFILE": "dev",
        }
    )
    assert config.profile == "dev"
    assert config.commitlog_bootstrap == "other:9093"
    assert config.commitlog_group == "g2"
    assert config.commitlog_topic == "commit-log"


@pytest.mark.parametrize(
    ("text", "environ", "missing"),
    [
        ("profile: prod\n", {}, "commitlog_bootstrap"),
        (
            'profile: prod\ngateway:\n  commitlog_bootstrap: "k:9092"\n  commitlog_topic: ""\n',
            {},
            "commitlog_topic",
        ),
        ("gateway: {}\n", {"PROFILE": "prod"}, "commitlog_bootstrap"),
    ],
)
def test_prod_requires_bootstrap_and_topic(
    tmp_path: Path, text: str, environ: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError, match=missing):
        load_gateway_config({"CONTROLPLANE_CONFIG": write(tmp_path, text), **environ})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("profile: staging\n", "profile must be one of"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("gateway: [1]\n", "`gateway` must be a mapping"),
        ("gateway: {commitlog_topic: [x]}\n", "gateway.commitlog_topic must be a string"),
        ("profile: [\n", "CONTROLPLANE_CONFIG"),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_gateway_config({"CONTROLPLANE_CONFIG": write(tmp_path, text)})


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_gateway_config({"CONTROLPLANE_CONFIG": str(tmp_path / "absent.yaml")})


def manage(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMITLOG_", "PROFILE"))}
    env.pop("CONTROLPLANE_CONFIG", None)
    env.update(environ)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


PROD_ENV = {
    "PROFILE": "prod",
    "DJANGO_SECRET_KEY": "a-long-random-secret-key-for-the-test-0123456789-abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "controlplane.example",
    "CELERY_BROKER_URL": "redis://redis.example:6379/0",
}


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
@pytest.mark.system
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


@pytest.mark.system
def test_prod_with_a_complete_configuration_passes_the_deploy_check() -> None:
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", COMMITLOG_BOOTSTRAP="k:9092", **PROD_ENV
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "writer is disabled" not in result.stderr


@pytest.mark.system
def test_dev_without_bootstrap_warns_that_the_writer_is_disabled() -> None:
    result = manage("check", PROFILE="dev")
    assert result.returncode == 0, result.stderr
    assert "WARNING: the commit-log writer is disabled" in result.stderr
    assert "event=commitlog_writer_disabled" in result.stderr


@pytest.mark.system
def test_dev_with_bootstrap_does_not_warn() -> None:
    result = manage("check", PROFILE="dev", COMMITLOG_BOOTSTRAP="127.0.0.1:9")
    assert result.returncode == 0, result.stderr
    assert "writer is disabled" not in result.stderr


@pytest.mark.system
def test_no_migration_is_missing() -> None:
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.system
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


@pytest.mark.system
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


@pytest.mark.system
def test_unknown_yaml_keys_are_warned_about(tmp_path: Path) -> None:
    path = write(tmp_path, "gateway:\n  commitlog_topik: x\nretention_days: 3\n")
    result = manage("check", CONTROLPLANE_CONFIG=path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "configuration warning" in line]
    assert warnings == [
        "controlplane: configuration warning: retention_days (top level) is not a setting",
        "controlplane: configuration warning: gateway.commitlog_topik is not a setting",
    ]


def test_the_reader_collects_every_problem() -> None:
    from config.env import EnvReader

    read = EnvReader({"A": "x", "B": "maybe", "C": "0.5", "D": " 7 ", "E": "nan"})
    assert read.integer("A", 1) == 1
    assert read.flag("B", True) is True
    assert read.number("C", 1.0, minimum=1.0) == 1.0
    assert read.integer("D", 0) == 7
    assert read.number("E", 2.0) == 2.0
    assert read.items("F", ["z"]) == ["z"]
    assert len(read.problems) == 4, read.problems


def test_every_process_logs_in_one_format_and_celery_is_quiet_when_idle() -> None:
    from config.logs import FORMAT, logging_config

    config = logging_config("INFO")
    assert config["formatters"]["keyvalue"]["format"] == FORMAT
    assert config["loggers"]["celery.app.trace"]["level"] == "WARNING"
    assert config["loggers"]["celery.beat"]["level"] == "WARNING"
    assert logging_config("DEBUG")["loggers"]["celery.beat"]["level"] == "DEBUG"
    from django.conf import settings

    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False  # Celery keeps our format


PROJECT_COMMANDS = ("consume_commitlog", "prune_commitlog", "ensure_commitlog_topic")
BASE_OPTIONS = {
    "help", "version", "verbosity", "settings", "pythonpath", "traceback", "no_color",
    "force_color", "skip_checks",
}  # fmt: skip


@pytest.mark.parametrize("name", PROJECT_COMMANDS)
def test_every_option_of_our_commands_says_what_it_does_and_its_default(name: str) -> None:
    from django.core.management import get_commands, load_command_class

    parser = load_command_class(get_commands()[name], name).create_parser("manage.py", name)
    ours = [a for a in parser._actions if a.dest not in BASE_OPTIONS and a.option_strings]
    assert ours, name
    for action in ours:
        assert action.help, (name, action.dest)
        assert "default" in action.help or action.required, (name, action.dest, action.help)


@pytest.mark.system
@pytest.mark.parametrize("name", PROJECT_COMMANDS)
def test_help_prints_no_start_up_notice(name: str) -> None:
    result = manage(name, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
    assert result.stderr == ""
