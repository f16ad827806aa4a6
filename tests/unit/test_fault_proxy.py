"""The fault proxy of the fault-injection suite, against a local echo server."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from reliability.proxy import FaultProxy, Link


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def link() -> Iterator[Link]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = FaultProxy().start()
    try:
        yield proxy.add("echo", server.server_address[1])
    finally:
        proxy.stop()
        server.shutdown()
        server.server_close()


def _connect(link: Link) -> socket.socket:
    return socket.create_connection(("127.0.0.1", link.port), timeout=10)


def _echo(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    received = b""
    while len(received) < len(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def _is_reset(sock: socket.socket) -> bool:
    """True once the proxy reset the connection (an RST, not a clean close)."""
    sock.settimeout(10)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    return False


def _cut_within(sock: socket.socket, rounds: int) -> bool:
    """True when an echo is cut short (reset) within `rounds` round trips."""
    try:
        return any(_echo(sock, b"y" * 1000) != b"y" * 1000 for _ in range(rounds))
    except ConnectionResetError:
        return True


def test_forwards_both_ways(link: Link) -> None:
    with _connect(link) as sock:
        assert _echo(sock, b"hello" * 1000) == b"hello" * 1000


def test_latency_holds_every_chunk_at_least_its_delay(link: Link) -> None:
    link.set_latency(0.2, 0.3)
    with _connect(link) as sock:
        started = time.monotonic()
        assert _echo(sock, b"ping") == b"ping"
        assert time.monotonic() - started >= 0.4  # 0.2 s at least, each way
        link.lift("latency")
        assert _echo(sock, b"pong") == b"pong"


def test_bandwidth_limit_paces_the_bytes(link: Link) -> None:
    link.set_bandwidth(20_000)
    with _connect(link) as sock:
        started = time.monotonic()
        assert _echo(sock, b"x" * 20_000) == b"x" * 20_000
        assert time.monotonic() - started >= 0.9  # 20 kB at 20 kB/s (the ways overlap)


def test_reset_cuts_live_connections_and_later_ones_mid_stream(link: Link) -> None:
    with _connect(link) as sock:
        assert _echo(sock, b"before") == b"before"
        link.reset_connections(within_bytes=100)
        assert _is_reset(sock)
    with _connect(link) as later:
        assert _cut_within(later, 100)
    link.clear()
    with _connect(link) as sock:
        assert _echo(sock, b"after") == b"after"
    assert link.resets >= 2


def test_blackhole_accepts_bytes_delivers_none_then_resets_what_it_touched(link: Link) -> None:
    with _connect(link) as old, _connect(link) as untouched:
        assert _echo(old, b"a") == b"a"
        assert _echo(untouched, b"b") == b"b"
        link.set_blackhole(True)
        new = _connect(link)  # accepted during the blackhole
        new.sendall(b"lost")
        old.sendall(b"lost too")
        old.settimeout(0.5)
        with pytest.raises(TimeoutError):
            old.recv(1)
        link.set_blackhole(False)
        assert _is_reset(old)
        assert _is_reset(new)
        new.close()
        assert _echo(untouched, b"still here") == b"still here"
