"""HTTP/1.1 spoken by hand over a socket, from a chosen loopback source address (the
proxy tests tell clients apart by address) and under one deadline for the whole exchange."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no answer within {self.seconds}s")
        return left


def connect(port: int, source: str, timeout: float) -> socket.socket:
    """A connection to 127.0.0.1:port from `source` (any 127.x address is this host's)."""
    return socket.create_connection(
        ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
    )


def _read_until(sock: socket.socket, data: bytes, done: int | bytes, deadline: _Deadline) -> bytes:
    """Read into `data` until it holds `done` bytes or contains `done`, or the peer ends."""
    while (len(data) < done) if isinstance(done, int) else (done not in data):
        sock.settimeout(deadline.left())
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise TimeoutError(f"no answer within {deadline.seconds}s") from None
        if not chunk:
            break
        data += chunk
    return data


def exchange(
    port: int, request: bytes, *, source: str = "127.0.0.1", deadline_s: float = 10.0
) -> Answer:
    """Send `request` as it is and read one answer: its head, then Content-Length bytes."""
    deadline = _Deadline(deadline_s)
    with connect(port, source, deadline.left()) as sock:
        sock.sendall(request)
        data = _read_until(sock, b"", b"\r\n\r\n", deadline)
        if not data:
            raise ConnectionError("the connection closed without an answer")
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = _read_until(sock, body, length, deadline)[:length]
        return Answer(int(lines[0].split()[1]), headers, body)


def get(
    port: int, path: str, *, source: str = "127.0.0.1", headers: str = "", deadline_s: float = 10.0
) -> Answer:
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\r\n"
    return exchange(port, request.encode(), source=source, deadline_s=deadline_s)


def get_within(port: int, path: str, deadline_s: float, source: str = "127.0.0.1") -> bytes:
    """The answer's first line to one GET, all of it (connect, send, read) within
    `deadline_s`; TimeoutError when that passes."""
    deadline = _Deadline(deadline_s)
    with connect(port, source, deadline.left()) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        return _read_until(sock, b"", b"\r\n", deadline).split(b"\r\n", 1)[0]
