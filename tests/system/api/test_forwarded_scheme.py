"""The scheme and the client's address come from the TLS terminator only: gunicorn as
compose's `web` with the SSL redirect on, behind nginx as compose's `proxy` with
PROXY_TRUSTED_ADDRESS set to one loopback address. From it, `X-Forwarded-Proto: https`
is believed (HSTS, no redirect) and X-Forwarded-For names the client in nginx's log;
from any other address both headers are replaced by what nginx itself knows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.compose_web import compose_web
from tests.support.nginx import Proxy, require_nginx, running_proxy
from tests.support.processes import wait_for
from tests.support.raw_http import get

pytestmark = pytest.mark.django_db(transaction=True)

TERMINATOR = "127.0.0.3"
ELSEWHERE = "127.0.0.1"
CLIENT = "203.0.113.7"  # the address a terminator names in X-Forwarded-For
FORWARDED = f"X-Forwarded-Proto: https\r\nX-Forwarded-For: {CLIENT}\r\n"


@pytest.fixture(scope="module")
def proxy() -> Iterator[Proxy]:
    require_nginx()  # before gunicorn starts for nothing
    with (
        compose_web(DJANGO_SECURE_SSL_REDIRECT="true") as (port, _),
        running_proxy(f"127.0.0.1:{port}", PROXY_TRUSTED_ADDRESS=f"{TERMINATOR}/32") as nginx,
    ):
        yield nginx


def _logged_from(proxy: Proxy, path: str) -> str:
    """The client address of the last line of nginx's access log (the image's `main`
    format: $remote_addr first) for `path`."""
    log = proxy.directory / "access.log"
    wait_for(lambda: log.exists() and f"GET {path} " in log.read_text(), 10, "the access log")
    line = [row for row in log.read_text().splitlines() if f"GET {path} " in row][-1]
    return line.split(" ", 1)[0]


def test_the_terminator_s_https_is_believed(proxy: Proxy) -> None:
    answer = get(proxy.port, "/healthz?from=terminator", source=TERMINATOR, headers=FORWARDED)
    # Not a redirect to https (which the terminator would send here again, for ever).
    assert answer.status == 200, answer
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
    assert _logged_from(proxy, "/healthz?from=terminator") == CLIENT


def test_another_address_s_forwarded_headers_are_ignored(proxy: Proxy) -> None:
    answer = get(proxy.port, "/healthz?from=elsewhere", source=ELSEWHERE, headers=FORWARDED)
    assert answer.status == 301, answer
    assert answer.headers["location"] == "https://localhost/healthz?from=elsewhere"
    assert "strict-transport-security" not in answer.headers
    assert _logged_from(proxy, "/healthz?from=elsewhere") == ELSEWHERE
