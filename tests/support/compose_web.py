"""gunicorn as docker-compose.yml's `web` service starts it (its command and environment),
bound to a loopback port, on the test's database: what the proxy tests put nginx in
front of."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.net import free_port
from tests.support.compose import REQUIRED_SECRETS, SERVICES, service_environment
from tests.support.processes import database_url, retire, service_process, wait_for
from tests.support.raw_http import get_within

COMPOSE_GIVEN = {**REQUIRED_SECRETS, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}


def web_command(port: int) -> tuple[list[str], int]:
    """compose's `web` command, bound to a loopback port; and its worker count."""
    argv = list(SERVICES["web"]["command"])
    assert argv[0] == "gunicorn"
    bind = argv.index("--bind") + 1
    argv[bind] = f"127.0.0.1:{port}"
    return ["-m", *argv], int(argv[argv.index("--workers") + 1])


@contextmanager
def compose_web(**overrides: str) -> Iterator[tuple[int, int]]:
    """(port, workers) of gunicorn with the `web` service's command and environment, with
    `overrides` on top; only the database is the test's."""
    port = free_port()
    args, workers = web_command(port)
    secrets_dir = tempfile.TemporaryDirectory(prefix="compose-web-secrets-")
    env = service_environment("web", COMPOSE_GIVEN, Path(secrets_dir.name))
    env["DATABASE_URL"] = database_url()
    env["PROD_ALLOW_WEAK"] = "database_password"  # the test machine's, without a password
    # In compose nginx reaches gunicorn from another container, whose address gunicorn's
    # forwarded_allow_ips (127.0.0.1 by default) leaves out, so only Django's settings
    # judge X-Forwarded-Proto; here nginx is on 127.0.0.1, so gunicorn is told the same.
    env["FORWARDED_ALLOW_IPS"] = "192.0.2.1"
    env.update(overrides)
    server = service_process(args, env)

    def answers() -> bool:
        if not server.alive:
            raise AssertionError(f"gunicorn exited:\n{server.output()}")
        try:
            return get_within(port, "/healthz", 2.0).startswith(b"HTTP/1.1 ")
        except (OSError, TimeoutError):
            return False

    try:
        wait_for(answers, 60, "gunicorn to answer")
        yield port, workers
    finally:
        retire(server)
        secrets_dir.cleanup()
