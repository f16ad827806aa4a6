"""The Kafka clients' SASL password read from a file (a compose secret), so it is in
neither a process's command line nor its environment."""

from __future__ import annotations

from pathlib import Path

from config.env import EnvReader
from config.settings.kafka import commitlog_client_config

SASL = {"COMMITLOG_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "COMMITLOG_SASL_USERNAME": "reader"}


def client_config(**environ: str) -> tuple[dict[str, str], list[str]]:
    read = EnvReader(environ)
    return commitlog_client_config(read), read.problems


def test_the_password_comes_from_the_file_without_its_final_newline(tmp_path: Path) -> None:
    secret = tmp_path / "kafka_reader_password"
    secret.write_text("reader-s3cret\n")
    config, problems = client_config(**SASL, COMMITLOG_SASL_PASSWORD_FILE=str(secret))
    assert problems == []
    assert config["sasl.password"] == "reader-s3cret"
    assert config["sasl.username"] == "reader"


def test_a_missing_or_empty_file_is_named_and_its_content_never_is(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    _, problems = client_config(**SASL, COMMITLOG_SASL_PASSWORD_FILE=str(missing))
    assert len(problems) == 1, problems
    assert f"COMMITLOG_SASL_PASSWORD_FILE={str(missing)!r} cannot be read" in problems[0]

    empty = tmp_path / "empty"
    empty.write_text("\n")
    _, problems = client_config(**SASL, COMMITLOG_SASL_PASSWORD_FILE=str(empty))
    assert problems == [f"COMMITLOG_SASL_PASSWORD_FILE={str(empty)!r} is empty"]


def test_the_password_and_its_file_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-the-file")
    _, problems = client_config(
        **SASL, COMMITLOG_SASL_PASSWORD="inline", COMMITLOG_SASL_PASSWORD_FILE=str(secret)
    )
    assert len(problems) == 1, problems
    assert "COMMITLOG_SASL_PASSWORD and COMMITLOG_SASL_PASSWORD_FILE" in problems[0]
    assert "from-the-file" not in problems[0]
    assert "inline" not in problems[0]


def test_a_file_without_sasl_is_refused_like_a_password(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("pw")
    _, problems = client_config(COMMITLOG_SASL_PASSWORD_FILE=str(secret))
    assert len(problems) == 1, problems
    assert "sends no credentials" in problems[0]
