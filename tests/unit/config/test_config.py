"""Configuration: YAML plus environment, profiles, and refusing to start in prod."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.yaml_file import ConfigError, load_gateway_config
from tests.support.commands import PROJECT_COMMANDS, write_config

PROD_YAML = """
profile: prod
gateway:
  commitlog_bootstrap: "kafka-1:9092"
  commitlog_topic: "commit-log"
  commitlog_group: "gateway-commits"
  commitlog_transactional_id: "gateway-writer"
"""


def test_defaults_without_file_or_environment() -> None:
    config = load_gateway_config({})
    assert config.profile == "dev"
    assert config.commitlog_bootstrap == ""
    assert config.commitlog_topic == "commit-log"
    assert config.commitlog_group == "gateway-commits"
    assert config.commitlog_transactional_id == "gateway-writer"
    assert not config.writer_enabled


def test_yaml_file_is_read(tmp_path: Path) -> None:
    config = load_gateway_config({"CONTROLPLANE_CONFIG": write_config(tmp_path, PROD_YAML)})
    assert config.profile == "prod"
    assert config.commitlog_bootstrap == "kafka-1:9092"
    assert config.writer_enabled


def test_environment_overrides_the_file_and_empty_variables_do_not(tmp_path: Path) -> None:
    config = load_gateway_config(
        {
            "CONTROLPLANE_CONFIG": write_config(tmp_path, PROD_YAML),
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
        load_gateway_config({"CONTROLPLANE_CONFIG": write_config(tmp_path, text), **environ})


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
        load_gateway_config({"CONTROLPLANE_CONFIG": write_config(tmp_path, text)})


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_gateway_config({"CONTROLPLANE_CONFIG": str(tmp_path / "absent.yaml")})


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
    # Celery's per-task and per-schedule lines are demoted to DEBUG (tests/unit/ops/
    # test_log_fields.py logs them through this configuration).
    for logger in ("celery.app.trace", "celery.worker.strategy", "celery.beat"):
        assert config["loggers"][logger]["filters"], logger
    from django.conf import settings

    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False  # Celery keeps our format


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
