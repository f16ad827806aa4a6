"""Profile prod refuses debug mode, weak secret keys and wildcard hosts, believes
X-Forwarded-Proto only when told a proxy sets it, and passes the deploy check; the Kafka
clients' security options are read whole or refused."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from tests.support.commands import PROD_ENV, manage
from tests.support.paths import ROOT

COMPLETE_PROD = {
    **PROD_ENV,
    "COMMITLOG_BOOTSTRAP": "k:9092",
}


def refusal(**environ: str) -> str:
    """The one configuration error line of a prod `check` with `environ`."""
    result = manage("check", **{**COMPLETE_PROD, **environ})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("controlplane: configuration error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG"),
        ({"DJANGO_SECRET_KEY": "changeme"}, "DJANGO_SECRET_KEY looks like a placeholder"),
        ({"DJANGO_SECRET_KEY": "s3cr3t-but-short"}, "DJANGO_SECRET_KEY is 16 characters"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "x1y2" * 15}, "django-insecure-"),
        ({"DJANGO_SECRET_KEY": "ab" * 40}, "DJANGO_SECRET_KEY is too predictable"),
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS cannot hold a wildcard (*)"),
        ({"DJANGO_ALLOWED_HOSTS": "ok.example,*.example"}, "wildcard (*.example)"),
        (
            {"COMMITLOG_SECURITY_PROTOCOL": "SASL_SSL", "COMMITLOG_SASL_PASSWORD": "p"},
            "requires COMMITLOG_SASL_USERNAME",
        ),
    ],
)
def test_prod_refuses_each_weak_setting_in_one_line(environ: dict[str, str], named: str) -> None:
    line = refusal(**environ)
    assert named in line
    if len(environ.get("DJANGO_SECRET_KEY", "")) > len("changeme"):
        assert environ["DJANGO_SECRET_KEY"] not in line


def test_prod_names_every_weak_setting_at_once() -> None:
    weak = {"DJANGO_DEBUG": "1", "DJANGO_SECRET_KEY": "changeme", "DJANGO_ALLOWED_HOSTS": "*"}
    result = manage("check", **{**COMPLETE_PROD, **weak})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(": ")[2].split()[0] for line in lines] == [
        "DJANGO_DEBUG",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
    ], lines


# One weak value per check of config.settings.production, in its order.
EVERY_WEAKNESS = {
    "DJANGO_SECRET_KEY": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "DJANGO_ALLOWED_HOSTS": ".co.uk",
    "DATABASE_URL": "postgres://postgres:postgres@db.example:5432/controlplane",
    "CELERY_BROKER_URL": "redis://redis.example:6379/0",
    "COMMITLOG_SIGNING_KEY": "",
    "ADMIN_LOGIN_LOCKOUT_MINUTES": "0",
    "API_THROTTLE_WRITE_RATE": "off",
    "DJANGO_SECURE_HSTS_SECONDS": "0",
}


@pytest.mark.parametrize("entry", [["manage.py", "check"], ["-m", "gunicorn"]])
def test_a_prod_start_with_weak_settings_exits_2_naming_each(entry: list[str]) -> None:
    if entry[0] == "manage.py":
        result = manage("check", **{**COMPLETE_PROD, **EVERY_WEAKNESS})
    else:  # gunicorn as compose starts it: the arbiter reports, before any worker
        result = gunicorn_start({**COMPLETE_PROD, **EVERY_WEAKNESS})
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if "configuration error" in line]
    named = [line.split(": ")[2].split()[0].split("=")[0] for line in lines]
    assert named == list(EVERY_WEAKNESS), lines
    checks = [line.rsplit("PROD_ALLOW_WEAK=", 1)[1].split()[0] for line in lines]
    assert checks == [
        "secret_key", "allowed_hosts", "database_password", "redis_password",
        "signing_key", "login_lockout", "throttling", "hsts",
    ]  # fmt: skip
    assert "Traceback" not in result.stderr
    # Named in PROD_ALLOW_WEAK, every one is accepted.
    allowed = manage("check", **{**COMPLETE_PROD, **EVERY_WEAKNESS,
                                 "PROD_ALLOW_WEAK": ",".join(checks)})  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr


def gunicorn_start(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMITLOG_", "PROFILE"))}
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn",
         "config.wsgi:application", "--bind", "127.0.0.1:0"],
        env={**env, **environ}, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip


def test_dev_keeps_its_debug_and_development_key() -> None:
    result = manage("check", PROFILE="dev", DJANGO_DEBUG="true", DJANGO_ALLOWED_HOSTS="*")
    assert result.returncode == 0, result.stderr


SHOW_PROXY_HEADER = (
    "from django.conf import settings; print(repr(settings.SECURE_PROXY_SSL_HEADER))"
)


@pytest.mark.parametrize(
    ("trusted", "header"),
    [(None, "None"), ("false", "None"), ("true", "('HTTP_X_FORWARDED_PROTO', 'https')")],
)
def test_x_forwarded_proto_is_believed_only_behind_a_trusted_proxy(
    trusted: str | None, header: str
) -> None:
    environ = dict(COMPLETE_PROD)
    if trusted is not None:
        environ["DJANGO_TRUSTED_PROXY"] = trusted
    result = manage("shell", "-c", SHOW_PROXY_HEADER, **environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == header


@pytest.mark.parametrize("trusted", ["false", "true"])
def test_prod_passes_the_deploy_check_at_warning_level(trusted: str) -> None:
    environ = {**COMPLETE_PROD, "DJANGO_TRUSTED_PROXY": trusted}
    environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    result = manage("check", "--deploy", "--fail-level", "WARNING", **environ)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
