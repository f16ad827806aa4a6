"""The Kafka clients each compose service makes, from that service's own environment and
secret file: librdkafka's options (SASL/SCRAM as its own principal, the password from the
file), real clients built with them, and no password in a command line or environment.
compose's broker itself (Apache Kafka, SCRAM and ACLs) cannot run here: no Docker, and
the embedded broker (Tansu) checks SCRAM but keeps no users across the restart that
turning authentication on needs, so a client here is refused as an unknown user."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.kafka import tansu_binary
from devstack.net import free_port
from devstack.process import ChildProcess
from tests.support.compose import APP_SERVICES, REQUIRED_SECRETS, SERVICES, service_environment
from tests.support.paths import ROOT
from tests.support.processes import database_url, retire, service_process

pytestmark = pytest.mark.django_db(transaction=True)

GIVEN = {**REQUIRED_SECRETS, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}

# Builds every kind of client the service's code makes (confluent_kafka refuses an unknown
# option at construction), prints the options, then waits so the test can look at it.
CLIENTS = """
import json, sys
import django
from config.startup import load_settings_or_exit
load_settings_or_exit()  # as manage.py, gunicorn and celery load them
django.setup()
from commitlog.conf import commitlog_settings
from commitlog.kafka import LogConsumer, TransactionalWriter
from commitlog.kafka.admin import _admin
s = commitlog_settings()
options = s.commitlog_client_config
writer = TransactionalWriter(bootstrap=s.commitlog_bootstrap, topic=s.commitlog_topic,
                             transactional_id=s.commitlog_transactional_id, extra_config=options)
reader = LogConsumer(bootstrap=s.commitlog_bootstrap, group=s.commitlog_group,
                     topic=s.commitlog_topic, extra_config=options)
admin = _admin(s.commitlog_bootstrap, 1.0, options)
print(json.dumps(options), flush=True)
sys.stdin.readline()
reader.close()
writer.close()
"""


def principal(service: str) -> tuple[str, str]:
    user = SERVICES[service]["environment"]["COMMITLOG_SASL_USERNAME"]
    return user, GIVEN[f"KAFKA_{user.upper()}_PASSWORD"]


def assert_password_hidden(pid: int, password: str) -> None:
    for view in ("cmdline", "environ"):
        assert password.encode() not in Path(f"/proc/{pid}/{view}").read_bytes(), view


@pytest.mark.parametrize("service", APP_SERVICES)
def test_each_service_speaks_scram_as_its_principal_with_the_password_of_its_file(
    service: str, tmp_path: Path
) -> None:
    env = service_environment(service, GIVEN, tmp_path)
    env["COMMITLOG_BOOTSTRAP"] = f"127.0.0.1:{free_port()}"  # nothing there: no broker needed
    child = subprocess.Popen(
        [sys.executable, "-c", CLIENTS], env={"PATH": "/usr/bin:/bin", **env}, cwd=ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        assert child.stdin is not None
        line = child.stdout.readline()
        assert line, child.communicate(timeout=30)[1]
        user, password = principal(service)
        assert json.loads(line) == {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": user,
            "sasl.password": password,
        }
        assert_password_hidden(child.pid, password)
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.wait(timeout=60) == 0, child.communicate()[1]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


@pytest.fixture
def scram_broker(tmp_path: Path) -> Iterator[str]:
    """Tansu requiring SASL authentication of every client."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    argv = [tansu_binary(), "broker", "--authentication", "--listener-url", url,
            "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]  # fmt: skip
    broker = ChildProcess("tansu", argv, env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path,
                          log_path=tmp_path / "tansu.log").start()  # fmt: skip
    try:
        broker.wait_for_line("ready in", 30)
        yield f"127.0.0.1:{port}"
    finally:
        broker.stop()


def test_the_consumer_service_authenticates_with_scram_as_reader(
    scram_broker: str, tmp_path: Path
) -> None:
    """compose's consumer command and environment: it reaches the broker's SCRAM exchange
    as `reader` (refused only because this broker has no users), its password unseen."""
    env = service_environment("consumer", GIVEN, tmp_path)
    env.update(COMMITLOG_BOOTSTRAP=scram_broker, DATABASE_URL=database_url(),
               PROD_ALLOW_WEAK="database_password")  # fmt: skip
    program, *args = SERVICES["consumer"]["command"]
    assert program == "python"
    consumer = service_process(args, env)
    try:
        consumer.wait_for_line("SASL SCRAM authentication failed", 60)
        assert "unknown-user" in consumer.output()  # the broker saw a SCRAM user it lacks
        assert_password_hidden(consumer.pid, principal("consumer")[1])
    finally:
        retire(consumer)
