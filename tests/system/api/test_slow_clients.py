"""Slow clients cannot hold the web tier: gunicorn started as docker-compose.yml's `web`
starts it, behind nginx as compose's `proxy` runs it (deploy/nginx under the image's own
nginx.conf, tests/support/nginx.py), while more connections than there are workers send
their headers or bodies a line at a time, or one address opens more connections than
nginx's workers can hold."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.support.compose_web import compose_web as compose_web_server
from tests.support.nginx import (
    Proxy,
    compose_settings,
    make_room_for,
    running_proxy,
    worker_connections,
)
from tests.support.processes import wait_for
from tests.support.raw_http import connect, get_within

pytestmark = pytest.mark.django_db(transaction=True)

# The client's deadline for a whole normal request (connect, send, answer): issue 22 wants
# the attack to delay one by less than a second.
CLIENT_DEADLINE_S = 1.0
# How often each slow client sends its next line: often enough to keep any per-read timeout
# from cutting it off, as in the attack of issue 22 (it sent one every 3 s).
DRIP_S = 0.5
# The flood of issue 31: at least this many slow-header connections from one address.
FLOOD = 2000
# Room for the flood's sockets in this process and nginx's connections.
DESCRIPTORS = 16384


@pytest.fixture(scope="module")
def compose_web() -> Iterator[tuple[int, int]]:
    """(port, workers) of gunicorn as compose's `web`."""
    with compose_web_server() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(compose_web: tuple[int, int]) -> Iterator[Proxy]:
    """nginx as compose's `proxy` in front of compose_web."""
    make_room_for(DESCRIPTORS)
    with running_proxy(f"127.0.0.1:{compose_web[0]}") as server:
        wait_for(lambda: _reachable(server.port), 30, "nginx to answer")
        yield server


class SlowClients:
    """Connections that start a request and never finish it: each sends one more header
    line (or, having announced a body, one more byte of it) every DRIP_S seconds. Those the
    server closes at once are counted in `refused`."""

    def __init__(self, port: int, *, headers: int, bodies: int, source: str = "127.0.0.1") -> None:
        self.sockets: list[tuple[socket.socket, bytes]] = []
        self.refused = 0
        for index in range(headers + bodies):
            try:
                sock = connect(port, source, 5)
            except OSError:  # a full accept queue on a loaded host: one attacker fewer
                self.refused += 1
                continue
            try:
                if index < headers:
                    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    line = b"X-Slow: 1\r\n"
                else:
                    sock.sendall(
                        b"POST /strategies HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n["
                    )
                    line = b" "
            except OSError:
                sock.close()
                self.refused += 1
                continue
            self.sockets.append((sock, line))
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
    compose_web: tuple[int, int], proxy: Proxy, record_property: Callable[[str, object], None]
) -> None:
    workers = compose_web[1]
    slow = SlowClients(proxy.port, headers=workers, bodies=workers)
    try:
        delays = []
        for _ in range(5):
            started = time.monotonic()
            assert get_within(proxy.port, "/healthz", CLIENT_DEADLINE_S) == b"HTTP/1.1 200 OK"
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


def test_slow_headers_from_one_address_leave_room_for_the_others(
    proxy: Proxy, record_property: Callable[[str, object], None]
) -> None:
    """Issue 31: one address opening more slow-header connections than all of nginx's
    workers can hold is cut off at its cap as they are accepted; another address is
    answered all along."""
    cap = int(compose_settings()["PROXY_CONNECTIONS_PER_ADDRESS"])
    # Beyond every worker's connections, so that without the cap nothing is left.
    flood = max(FLOOD, proxy.workers() * worker_connections() + 256)
    slow = SlowClients(proxy.port, headers=flood, bodies=0, source="127.0.0.2")
    try:
        delays = []
        for _ in range(5):
            started = time.monotonic()
            # A generous deadline: the attack must not make it fail, however slow the host.
            assert get_within(proxy.port, "/healthz", 10.0, "127.0.0.1") == b"HTTP/1.1 200 OK"
            delays.append(time.monotonic() - started)
        # nginx may still be accepting (and closing) the last of them on a busy host.
        wait_for(lambda: slow.still_open() <= cap, 30, "the connections over the cap closed")
        held = slow.still_open()
    finally:
        slow.close()
    record_property("flood_held", held)
    print(
        f"[slow clients] {flood} slow-header connections from 127.0.0.2: {held} held "
        f"(cap {cap}), {slow.refused} not connected; 127.0.0.1 answered in "
        f"{min(delays) * 1000:.1f}-{max(delays) * 1000:.1f} ms", file=sys.stderr
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
