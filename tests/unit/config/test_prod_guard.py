"""Profile prod refuses debug mode, weak secret keys and wildcard hosts, believes
X-Forwarded-Proto only when told a proxy sets it, and passes the deploy check; the Kafka
clients' security options are read whole or refused."""

from __future__ import annotations

import hashlib
import math
import secrets
import string

import pytest

from config.env import EnvReader
from config.settings.kafka import commitlog_client_config
from config.settings.production import (
    CHECKS,
    ProdValues,
    refuse_weak_prod_settings,
    weak_settings,
)
from config.settings.strength import estimated_bits, secret_key_weakness


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("changeme", "placeholder"),
        ("CHANGEME-" + secrets.token_urlsafe(50), "placeholder"),
        ("django-insecure-" + secrets.token_urlsafe(50), "django-insecure-"),
        (secrets.token_urlsafe(20), "at least 50"),
        ("abcdefgh" * 8, "predictable"),
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


# --- Each weak-setting check of profile prod (config.settings.production) ----------------

STRONG = ProdValues(
    secret_key=secrets.token_urlsafe(50),
    allowed_hosts=["controlplane.example", ".controlplane.example"],
    database_url="postgres://controlplane:Xq83nVm2Lk7Pw4Rt@db.example:5432/controlplane",
    redis_urls={"CELERY_BROKER_URL": "redis://:Hv72kQp9Ls3Md8Wn@redis.example:6379/0"},
    signing_keys=(secrets.token_urlsafe(32),),
    lockout_minutes=15.0,
    throttle_rates={"API_THROTTLE_WRITE_RATE": (120, 60.0), "API_THROTTLE_READ_RATE": (1, 1.0)},
    hsts_seconds=31536000,
)

WEAK: dict[str, list[dict[str, object]]] = {
    "secret_key": [
        {"secret_key": string.ascii_lowercase + string.ascii_uppercase},  # 52 letters in order
        {"secret_key": hashlib.sha256(b"password").hexdigest()},
        {"secret_key": "correcthorse" * 5},
    ],
    "allowed_hosts": [
        {"allowed_hosts": ["ok.example", "*"]},
        {"allowed_hosts": [".com"]},
        {"allowed_hosts": [".co.uk"]},
        {"allowed_hosts": [".GitHub.io"]},
    ],
    "database_password": [
        {"database_url": "postgres://controlplane@db.example:5432/controlplane"},
        {"database_url": "postgres://u:postgres@db.example:5432/controlplane"},
        {"database_url": "postgres://u:Password@db.example:5432/controlplane"},
        {"database_url": "postgres://admin:admin@db.example:5432/controlplane"},
    ],
    "redis_password": [
        {"redis_urls": {"CELERY_BROKER_URL": "redis://redis.example:6379/0"}},
        {"redis_urls": {"CACHE_URL": "redis://:redis@redis.example:6379/1"}},
    ],
    "signing_key": [{"signing_keys": ()}],
    "login_lockout": [{"lockout_minutes": 0.0}],
    "throttling": [{"throttle_rates": {"API_THROTTLE_READ_RATE": None}}],
    "hsts": [{"hsts_seconds": 0}],
}
WEAK_CASES = [(name, change) for name, changes in WEAK.items() for change in changes]


def test_the_strong_values_pass() -> None:
    assert weak_settings(STRONG) == []


def test_every_check_has_weak_cases() -> None:
    assert set(WEAK) == set(CHECKS)


@pytest.mark.parametrize(("check", "change"), WEAK_CASES)
def test_each_check_refuses_its_weak_values_in_one_line(
    check: str, change: dict[str, object]
) -> None:
    values = STRONG._replace(**change)
    [line] = weak_settings(values)
    assert line.endswith(f"(PROD_ALLOW_WEAK={check} accepts it)")
    for secret in (values.secret_key, "Password", "postgres"):
        assert secret not in line  # never a secret in the message
    # The check's override accepts it, and only that one.
    assert weak_settings(values, frozenset({check})) == []
    assert weak_settings(values, frozenset(CHECKS) - {check}) == [line]


def test_allow_weak_names_known_checks_only() -> None:
    read = EnvReader({"PROD_ALLOW_WEAK": "hsts,no_such_check"})
    refuse_weak_prod_settings(read, STRONG._replace(hsts_seconds=0), debug=False)
    [line] = read.problems
    assert "PROD_ALLOW_WEAK names no check no_such_check" in line


def test_a_hex_key_of_32_random_bytes_passes_but_not_a_digest_of_a_common_password() -> None:
    assert secret_key_weakness(secrets.token_hex(32)) is None
    for algorithm in ("md5", "sha1", "sha256", "sha512"):
        digest = hashlib.new(algorithm, b"qwerty").hexdigest()
        assert secret_key_weakness(digest.upper()) == "is the digest of a common password"


def test_the_estimate_counts_runs_sequences_and_repeats_as_nothing() -> None:
    assert estimated_bits("a" * 80) == 0
    assert estimated_bits(string.ascii_letters) == pytest.approx(2 * math.log2(52))
    # The word, then the two characters of its first repeat before a fragment recurs.
    assert estimated_bits("xkqz" * 20) == pytest.approx(6 * math.log2(4))
