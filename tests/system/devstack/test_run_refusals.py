"""bin/run refuses a configuration that must not start, and a configured service that does
not answer, before it starts any server: every problem named, one line each, status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.net import free_port
from tests.support.commands import PROD_ENV
from tests.support.launcher import launcher_env, run_to_end

PREFIX = "controlplane: configuration error: "


def refusal(tmp_path: Path, **environ: str) -> list[str]:
    """The problems named by a run with `environ`, after checking it stopped as it must."""
    code, output = run_to_end(
        ["--port", str(free_port()), "--state-dir", str(tmp_path)], launcher_env(**environ)
    )
    assert code == 2, output
    assert "Traceback" not in output, output
    assert "[run]" not in output, output  # nothing was started, not even announced
    assert not (tmp_path / "postgres").exists(), "an embedded PostgreSQL was set up"
    lines = output.strip().splitlines()
    assert all(line.startswith(PREFIX) for line in lines), output
    return [line.removeprefix(PREFIX) for line in lines]


def test_prod_names_every_missing_setting_and_service(tmp_path: Path) -> None:
    problems = refusal(tmp_path, PROFILE="prod")
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL",
                 "CELERY_BROKER_URL", "COMMITLOG_BOOTSTRAP"):  # fmt: skip
        assert any(name in problem for problem in problems), (name, problems)


def test_prod_with_only_the_services_missing_names_them_all(tmp_path: Path) -> None:
    environ = {k: v for k, v in PROD_ENV.items() if k != "CELERY_BROKER_URL"}
    problems = refusal(tmp_path, **environ)
    assert len(problems) == 3, problems
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "COMMITLOG_BOOTSTRAP"):
        assert any(name in problem for problem in problems), (name, problems)


def test_a_setting_out_of_range_and_unreachable_services_are_named_together(
    tmp_path: Path,
) -> None:
    closed = [free_port() for _ in range(3)]
    problems = refusal(
        tmp_path,
        RELAY_MAX_ATTEMPTS="-1",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed[0]}/controlplane",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{closed[1]}/0",
        COMMITLOG_BOOTSTRAP=f"127.0.0.1:{closed[2]}",
    )
    assert problems[0] == "RELAY_MAX_ATTEMPTS=-1 is below its minimum of 1", problems
    expected = [
        f"DATABASE_URL: cannot reach PostgreSQL at 127.0.0.1:{closed[0]}: Connection refused",
        f"CELERY_BROKER_URL: cannot reach the Celery broker at 127.0.0.1:{closed[1]}: "
        "Connection refused",
        f"COMMITLOG_BOOTSTRAP: cannot reach the Kafka broker at 127.0.0.1:{closed[2]}: "
        "Connection refused",
    ]
    assert problems[1:] == expected


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:{port}/controlplane", "PostgreSQL at"),
        ("CELERY_BROKER_URL", "redis://127.0.0.1:{port}/0", "the Celery broker at"),
        ("COMMITLOG_BOOTSTRAP", "127.0.0.1:{port}", "the Kafka broker at"),
    ],
)
def test_an_unreachable_service_is_never_replaced_by_an_embedded_one(
    tmp_path: Path, name: str, value: str, named: str
) -> None:
    port = free_port()
    problems = refusal(tmp_path, **{name: value.format(port=port)})
    assert problems == [f"{name}: cannot reach {named} 127.0.0.1:{port}: Connection refused"]
