"""nginx's own refusals (deploy/nginx as compose's `proxy` runs it) are the API's JSON
errors, `{"code": "E_...", "message": "..."}` as application/json, like every answer of the
app behind it: a malformed request, a body over the proxy's limit, an upstream that
refuses or never answers, the cap on requests at once from one address."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from controlplane.errors.codes import CODES
from devstack.net import free_port
from tests.support.nginx import running_proxy
from tests.support.raw_http import Answer, exchange, get


def assert_api_error(answer: Answer, status: int, code: str) -> None:
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json", answer
    body = json.loads(answer.body)
    assert body["code"] == code, body
    assert code in CODES, code
    assert body["message"], body


class Blackhole:
    """An upstream that accepts connections and never answers; `arrived` is set once a
    request reached it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.arrived = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.held.append(conn)
            self.arrived.set()

    def close(self) -> None:
        # shutdown() wakes the accept() blocked in the thread; close() alone does not.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self._thread.join(timeout=5)
        for conn in self.held:
            conn.close()


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    upstream = Blackhole()
    try:
        yield upstream
    finally:
        upstream.close()


def test_a_malformed_request_is_a_json_400(blackhole: Blackhole) -> None:
    with running_proxy(f"127.0.0.1:{blackhole.port}") as proxy:
        for request in (
            b"NOT HTTP AT ALL\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n",
        ):
            assert_api_error(exchange(proxy.port, request), 400, "E_INVALID_REQUEST")
        assert not blackhole.arrived.is_set()


def test_a_request_line_or_header_over_the_proxy_s_buffers_is_json(blackhole: Blackhole) -> None:
    """nginx's large_client_header_buffers (8 KiB a line by default)."""
    with running_proxy(f"127.0.0.1:{blackhole.port}") as proxy:
        long_line = b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert_api_error(exchange(proxy.port, long_line), 414, "E_INVALID_REQUEST")
        long_header = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n"
        assert_api_error(exchange(proxy.port, long_header), 400, "E_INVALID_REQUEST")
        assert not blackhole.arrived.is_set()


def test_a_body_over_the_proxy_s_limit_is_a_json_413(blackhole: Blackhole) -> None:
    with running_proxy(f"127.0.0.1:{blackhole.port}") as proxy:
        request = (
            b"POST /strategies HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 3000000\r\n\r\n"
        )
        assert_api_error(exchange(proxy.port, request), 413, "E_PAYLOAD_TOO_LARGE")
        assert not blackhole.arrived.is_set()


def test_an_upstream_that_is_down_is_a_json_502() -> None:
    with running_proxy(f"127.0.0.1:{free_port()}") as proxy:
        answer = get(proxy.port, "/healthz")
    assert_api_error(answer, 502, "E_UNAVAILABLE")
    assert answer.headers["retry-after"] == "1"


def test_an_upstream_that_never_answers_is_a_json_504(blackhole: Blackhole) -> None:
    with running_proxy(f"127.0.0.1:{blackhole.port}", PROXY_READ_TIMEOUT="1s") as proxy:
        answer = get(proxy.port, "/healthz", deadline_s=30)
    assert_api_error(answer, 504, "E_UNAVAILABLE")
    assert blackhole.arrived.is_set()


def test_requests_beyond_the_per_address_cap_are_a_json_503(blackhole: Blackhole) -> None:
    settings = {"PROXY_REQUESTS_PER_ADDRESS": "1", "PROXY_READ_TIMEOUT": "30s"}
    with running_proxy(f"127.0.0.1:{blackhole.port}", **settings) as proxy:
        first = threading.Thread(target=_ignore_errors, args=(proxy.port,), daemon=True)
        first.start()
        assert blackhole.arrived.wait(30), "the first request never reached the upstream"
        # The first is still in progress: the same address's second is refused at once.
        answer = get(proxy.port, "/healthz")
    first.join(timeout=30)
    assert_api_error(answer, 503, "E_UNAVAILABLE")
    assert answer.headers["retry-after"] == "1"


def _ignore_errors(port: int) -> None:
    with contextlib.suppress(OSError):  # nginx went away with the test
        get(port, "/healthz", deadline_s=60)
