"""Slow clients cannot hold the web tier: gunicorn started as docker-compose.yml's `web`
starts it, behind nginx with the compose stack's configuration (deploy/nginx), while more
connections than there are workers send their headers or bodies a line at a time."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import string
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devstack.net import free_port
from devstack.process import ChildProcess
from tests.support.compose import SERVICES, service_environment
from tests.support.paths import ROOT
from tests.support.processes import database_url, retire, service_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATE = ROOT / "deploy" / "nginx" / "default.conf.template"
# The client's deadline for a whole normal request (connect, send, answer): issue 22 wants
# the attack to delay one by less than a second.
CLIENT_DEADLINE_S = 1.0
# How often each slow client sends its next line: often enough to keep any per-read timeout
# from cutting it off, as in the attack of issue 22 (it sent one every 3 s).
DRIP_S = 0.5
COMPOSE_GIVEN = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "POSTGRES_PASSWORD": "pg-test-password",
    "REDIS_PASSWORD": "redis-test-password",
    "KAFKA_RELAY_PASSWORD": "relay-test-password",
    "KAFKA_READER_PASSWORD": "reader-test-password",
    "KAFKA_ADMIN_PASSWORD": "admin-test-password",
    "COMMITLOG_SIGNING_KEY": secrets.token_urlsafe(32),
}


def web_command(port: int) -> tuple[list[str], int]:
    """compose's `web` command, bound to a loopback port; and its worker count."""
    argv = list(SERVICES["web"]["command"])
    assert argv[0] == "gunicorn"
    bind = argv.index("--bind") + 1
    argv[bind] = f"127.0.0.1:{port}"
    return ["-m", *argv], int(argv[argv.index("--workers") + 1])


@pytest.fixture(scope="module")
def compose_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(port, workers) of gunicorn with the `web` service's command and environment (its
    secrets as files); only the database is the test's."""
    port = free_port()
    args, workers = web_command(port)
    env = service_environment("web", COMPOSE_GIVEN, tmp_path_factory.mktemp("secrets"))
    env["DATABASE_URL"] = database_url()
    env["PROD_ALLOW_WEAK"] = "database_password"  # the test machine's, without a password
    server = service_process(args, env)
    try:
        wait_for(lambda: _answers(port, server), 60, "gunicorn to answer")
        yield port, workers
    finally:
        retire(server)


@pytest.fixture(scope="module")
def proxy(compose_web: tuple[int, int]) -> Iterator[int]:
    """The port of nginx with deploy/nginx's server in front of compose_web."""
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (bin/test installs Debian's nginx)")
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="controlplane-nginx-"))
    server = string.Template(TEMPLATE.read_text()).safe_substitute(
        CONTROLPLANE_UPSTREAM=f"127.0.0.1:{compose_web[0]}", PROXY_LISTEN=f"127.0.0.1:{port}"
    )
    assert "${" not in server
    (directory / "default.conf").write_text(server)
    temp_paths = "".join(
        f"  {kind}_temp_path {directory / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (directory / "nginx.conf").write_text(
        f"worker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"events {{ worker_connections 256; }}\n"
        f"http {{\n  access_log off;\n{temp_paths}  include {directory / 'default.conf'};\n}}\n"
    )
    # Run as root, nginx's workers drop to an unprivileged user that must reach its files.
    directory.chmod(0o755)
    log = directory / "error.log"
    nginx = ChildProcess(
        "nginx",
        [NGINX, "-p", str(directory), "-e", str(log), "-c", str(directory / "nginx.conf"),
         "-g", "daemon off;"],
        env=dict(os.environ), cwd=directory, log_path=directory / "output.log", own_group=True,
    )  # fmt: skip
    nginx.start()
    try:
        wait_for(lambda: _answers(port, nginx, log), 30, "nginx to answer")
        yield port
    finally:
        retire(nginx)
        shutil.rmtree(directory, ignore_errors=True)


def _answers(port: int, server: ChildProcess, log: Path | None = None) -> bool:
    if not server.alive:
        extra = log.read_text() if log is not None and log.exists() else ""
        raise AssertionError(f"{server.name} exited:\n{server.output()}{extra}")
    try:
        return get_within(port, "/healthz", 2.0).startswith(b"HTTP/1.1 200")
    except (OSError, TimeoutError):
        return False


def get_within(port: int, path: str, deadline_s: float) -> bytes:
    """The answer's first line to one GET, all of it (connect, send, read) within
    `deadline_s`; TimeoutError when that passes."""
    deadline = time.monotonic() + deadline_s

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no answer within {deadline_s}s")
        return left

    with socket.create_connection(("127.0.0.1", port), timeout=remaining()) as sock:
        sock.settimeout(remaining())
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while b"\r\n" not in answer:
            sock.settimeout(remaining())
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                raise TimeoutError(f"no answer within {deadline_s}s") from None
            if not chunk:
                break
            answer += chunk
        return answer.split(b"\r\n", 1)[0]


class SlowClients:
    """Connections that start a request and never finish it: each sends one more header
    line (or, having announced a body, one more byte of it) every DRIP_S seconds."""

    def __init__(self, port: int, *, headers: int, bodies: int) -> None:
        self.sockets: list[tuple[socket.socket, bytes]] = []
        for index in range(headers + bodies):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            if index < headers:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                self.sockets.append((sock, b"X-Slow: 1\r\n"))
            else:
                sock.sendall(
                    b"POST /strategies HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
                )
                self.sockets.append((sock, b" "))
        self._stop = threading.Event()
        self._dripper = threading.Thread(target=self._drip, daemon=True)
        self._dripper.start()

    def _drip(self) -> None:
        while not self._stop.wait(DRIP_S):
            for sock, line in self.sockets:
                with contextlib.suppress(OSError):  # closed by the server: still_open() tells
                    sock.sendall(line)

    def still_open(self) -> int:
        """How many the server has neither answered nor closed."""
        count = 0
        for sock, _ in self.sockets:
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)  # an answer (408, 400) or the end
            except BlockingIOError:
                count += 1  # nothing to read: still waiting for the rest of the request
            except OSError:
                pass
            finally:
                sock.settimeout(5)
        return count

    def close(self) -> None:
        self._stop.set()
        self._dripper.join(timeout=5)
        for sock, _ in self.sockets:
            sock.close()


def test_a_normal_request_answers_within_a_second_while_slow_clients_hold_on(
    compose_web: tuple[int, int], proxy: int, record_property: Callable[[str, object], None]
) -> None:
    workers = compose_web[1]
    slow = SlowClients(proxy, headers=workers, bodies=workers)
    try:
        delays = []
        for _ in range(5):
            started = time.monotonic()
            assert get_within(proxy, "/healthz", CLIENT_DEADLINE_S) == b"HTTP/1.1 200 OK"
            delays.append(time.monotonic() - started)
        # The attack was going on all along: nginx holds every slow connection open.
        assert slow.still_open() == 2 * workers
    finally:
        slow.close()
    record_property("slowest_normal_request_s", round(max(delays), 4))
    print(
        f"[slow clients] {2 * workers} slow connections, {workers} workers: normal requests "
        f"answered in {min(delays) * 1000:.1f}-{max(delays) * 1000:.1f} ms", file=sys.stderr
    )  # fmt: skip


def test_without_the_proxy_the_same_attack_holds_every_worker(
    compose_web: tuple[int, int],
) -> None:
    """The control: straight to gunicorn, as compose published it before, the slow
    clients take every worker and the normal request misses its deadline."""
    port, workers = compose_web
    slow = SlowClients(port, headers=workers + 2, bodies=0)
    try:
        with pytest.raises(TimeoutError):
            get_within(port, "/healthz", CLIENT_DEADLINE_S)
    finally:
        slow.close()
    # Once they go, the workers are free again (for the next test too).
    wait_for(lambda: _reachable(port), 30, "gunicorn's workers to be free again")


def _reachable(port: int) -> bool:
    try:
        return get_within(port, "/healthz", 2.0) == b"HTTP/1.1 200 OK"
    except (OSError, TimeoutError):
        return False
