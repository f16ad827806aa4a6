"""Profile prod refuses debug mode, weak secret keys and wildcard hosts, believes
X-Forwarded-Proto only when told a proxy sets it, and passes the deploy check; the Kafka
clients' security options are read whole or refused."""

from __future__ import annotations

import secrets

import pytest

from config.env import EnvReader
from config.settings.kafka import commitlog_client_config
from config.settings.production import secret_key_weakness
from tests.test_config import PROD_ENV, manage

COMPLETE_PROD = {
    **PROD_ENV,
    "COMMITLOG_BOOTSTRAP": "k:9092",
    "DATABASE_URL": "postgres://controlplane@db.example:5432/controlplane",
}


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("changeme", "placeholder"),
        ("CHANGEME-" + secrets.token_urlsafe(50), "placeholder"),
        ("django-insecure-" + secrets.token_urlsafe(50), "django-insecure-"),
        (secrets.token_urlsafe(20), "at least 50"),
        ("abcdefgh" * 8, "repeats"),
        ("compose-test-" + "k" * 50, "predictable"),
        ("a" * 60 + "bcdefghijk", "predictable"),
    ],
)
def test_weak_secret_keys_are_named_weak(key: str, reason: str) -> None:
    weakness = secret_key_weakness(key)
    assert weakness is not None
    assert reason in weakness
    if len(key) > len("changeme"):
        assert key not in weakness  # the message never repeats a key


@pytest.mark.parametrize("key", [secrets.token_urlsafe(50), secrets.token_hex(32)])
def test_generated_keys_pass(key: str) -> None:
    assert secret_key_weakness(key) is None


def refusal(**environ: str) -> str:
    """The one configuration error line of a prod `check` with `environ`."""
    result = manage("check", **{**COMPLETE_PROD, **environ})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("controlplane: configuration error: ")
    return lines[0]


@pytest.mark.system
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


@pytest.mark.system
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


@pytest.mark.system
def test_dev_keeps_its_debug_and_development_key() -> None:
    result = manage("check", PROFILE="dev", DJANGO_DEBUG="true", DJANGO_ALLOWED_HOSTS="*")
    assert result.returncode == 0, result.stderr


SHOW_PROXY_HEADER = (
    "from django.conf import settings; print(repr(settings.SECURE_PROXY_SSL_HEADER))"
)


@pytest.mark.system
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


@pytest.mark.system
@pytest.mark.parametrize("trusted", ["false", "true"])
def test_prod_passes_the_deploy_check_at_warning_level(trusted: str) -> None:
    environ = {**COMPLETE_PROD, "DJANGO_TRUSTED_PROXY": trusted}
    environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    result = manage("check", "--deploy", "--fail-level", "WARNING", **environ)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def client_config(**environ: str) -> tuple[dict[str, str], list[str]]:
    read = EnvReader(environ)
    return commitlog_client_config(read), read.problems


def test_kafka_clients_default_to_plaintext_without_credentials() -> None:
    assert client_config() == ({"security.protocol": "PLAINTEXT"}, [])


def test_kafka_sasl_scram_settings_become_librdkafka_options() -> None:
    config, problems = client_config(
        COMMITLOG_SECURITY_PROTOCOL="sasl_ssl",
        COMMITLOG_SASL_USERNAME="relay",
        COMMITLOG_SASL_PASSWORD="pw",
        COMMITLOG_SSL_CA_LOCATION="/etc/ssl/ca.pem",
    )
    assert problems == []
    assert config == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "relay",
        "sasl.password": "pw",
        "ssl.ca.location": "/etc/ssl/ca.pem",
    }


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"COMMITLOG_SECURITY_PROTOCOL": "TLS"}, "is not one of"),
        (
            {
                "COMMITLOG_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "COMMITLOG_SASL_MECHANISM": "GSSAPI",
                "COMMITLOG_SASL_USERNAME": "u",
                "COMMITLOG_SASL_PASSWORD": "p",
            },
            "COMMITLOG_SASL_MECHANISM='GSSAPI'",
        ),
        ({"COMMITLOG_SASL_USERNAME": "relay"}, "sends no credentials"),
        ({"COMMITLOG_SSL_CA_LOCATION": "/ca.pem"}, "COMMITLOG_SSL_CA_LOCATION is set"),
    ],
)
def test_inconsistent_kafka_security_settings_are_refused(
    environ: dict[str, str], named: str
) -> None:
    _, problems = client_config(**environ)
    assert len(problems) == 1, problems
    assert named in problems[0]


def test_the_bundled_librdkafka_takes_the_sasl_scram_options() -> None:
    """Built with SCRAM support: every client kind accepts what the settings produce
    (no broker is needed to build one)."""
    from commitlog.kafka import LogConsumer, TransactionalWriter
    from commitlog.kafka.admin import _admin

    config, problems = client_config(
        COMMITLOG_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        COMMITLOG_SASL_USERNAME="relay",
        COMMITLOG_SASL_PASSWORD="pw",
    )
    assert problems == []
    writer = TransactionalWriter(
        bootstrap="127.0.0.1:9", topic="t", transactional_id="x", extra_config=config
    )
    consumer = LogConsumer(bootstrap="127.0.0.1:9", group="g", topic="t", extra_config=config)
    admin = _admin("127.0.0.1:9", 1.0, config)
    assert admin is not None
    consumer.close()
    writer.close()
