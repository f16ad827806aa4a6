"""The stack's settings file: `export` lines a POSIX shell reads back to the same values,
whatever they hold, with the stack's addresses and the commit log's settings only."""

from __future__ import annotations

import subprocess
from pathlib import Path

from devstack.envfile import render, stack_settings, summary

AWKWARD = {
    "DATABASE_URL": "postgres://u:p%40ss@127.0.0.1:5433/controlplane?sslmode=disable&x=1",
    "COMMITLOG_SASL_PASSWORD": 'it\'s $HOME `id` "quoted" \\ back;slash | & * ?',
    "COMMITLOG_TOPIC": "two\nlines",
}


def _sourced(path: Path, name: str) -> str:
    script = 'set -a; . "$1"; set +a; printf %s "${!2}"'
    done = subprocess.run(
        ["/bin/bash", "-c", script, "bash", str(path), name],
        capture_output=True, text=True, check=True, env={},
    )  # fmt: skip
    return done.stdout


def test_each_value_reads_back_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "env"
    path.write_text(render(AWKWARD))
    for line in path.read_text().split("\nexport "):
        assert line.removeprefix("export ").split("=", 1)[0] in AWKWARD
    for name, value in AWKWARD.items():
        assert _sourced(path, name) == value


def test_only_the_stack_and_the_commit_log_settings_are_kept() -> None:
    env = {"PROFILE": "dev", "DATABASE_URL": "postgres://a@b:1/c", "HOME": "/root",
           "COMMITLOG_TOPIC": "t", "COMMITLOG_SASL_USERNAME": "u", "RELAY_BATCH_SIZE": "5",
           "CELERY_BROKER_URL": "", "PATH": "/bin"}  # fmt: skip
    assert stack_settings(env) == {"PROFILE": "dev", "DATABASE_URL": "postgres://a@b:1/c",
                                   "COMMITLOG_TOPIC": "t", "RELAY_BATCH_SIZE": "5",
                                   "COMMITLOG_SASL_USERNAME": "u"}  # fmt: skip


def test_the_summary_hides_passwords_and_says_how_to_source_the_file() -> None:
    settings = {"DATABASE_URL": "postgres://u:secret@db:5432/c", "COMMITLOG_BOOTSTRAP": "k:9092",
                "CELERY_BROKER_URL": "redis://:pw@127.0.0.1:6379/0"}  # fmt: skip
    text = summary(settings, embedded={"COMMITLOG_BOOTSTRAP"}, web="http://h:1",
                   path=Path(".local/env").resolve())  # fmt: skip
    assert "secret" not in text
    assert "pw@" not in text
    assert "postgres://u:***@db:5432/c (configured)" in text
    assert "k:9092 (embedded)" in text
    assert "set -a; . .local/env; set +a" in text
