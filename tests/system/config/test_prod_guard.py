"""Profile prod refuses debug mode, weak secret keys and wildcard hosts, believes
X-Forwarded-Proto only when told a proxy sets it, and passes the deploy check; the Kafka
clients' security options are read whole or refused."""

from __future__ import annotations

import secrets

import pytest

from tests.support.commands import PROD_ENV, manage

COMPLETE_PROD = {
    **PROD_ENV,
    "COMMITLOG_BOOTSTRAP": "k:9092",
    "DATABASE_URL": "postgres://controlplane@db.example:5432/controlplane",
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
        ({"DJANGO_SECRET_KEY": "ab" * 40}, "DJANGO_SECRET_KEY repeats"),
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
