"""Reading the admin's "In the log" panel from a change page, for its tests."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from typing import Any

from django.db import connections
from django.test import Client

from devstack.process import wait_for


def field(html: str, name: str) -> str:
    """The text of the panel's `data-log=name` element."""
    found = re.search(rf'<(\w+)[^>]*data-log="{name}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no {name} in the panel"
    return unescape(re.sub(r"<[^>]+>", " ", found.group(2))).strip()


def page(client: Client, path: str) -> str:
    return _html(client.get(path))


def page_within(client: Client, path: str, timeout_s: float) -> str:
    """The page, asked from a thread of its own: a page that hangs fails the test at the
    deadline instead of holding it."""

    def get() -> Any:
        try:
            return client.get(path)
        finally:
            connections.close_all()  # the thread's own; the test database is dropped later

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        answer = pool.submit(get)
        wait_for(answer.done, timeout_s, f"{path} to render")
        return _html(answer.result())
    finally:
        pool.shutdown(wait=False)


def submission_page(strategy_id: str) -> str:
    return f"/admin/controlplane/strategysubmission/{strategy_id}/change/"


def _html(response: Any) -> str:
    assert response.status_code == 200
    html: str = response.content.decode()
    return html
