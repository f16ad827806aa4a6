"""Request bodies, DAGs and races the API tests share."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from django.db import connections
from rest_framework.test import APIClient

from controlplane.domain import clock
from devstack.bodies import chain_dag, node_ids_crc32, strategy_body

# `bin/test --unit` runs the properties with a tenth of their examples, to answer in seconds.
EXAMPLES_SCALE = float(os.environ.get("TEST_EXAMPLES_SCALE", "1"))


def examples(count: int) -> int:
    """A property's number of examples, scaled for quick runs."""
    return max(10, round(count * EXAMPLES_SCALE))


def crc_of(node_ids: list[str]) -> int:
    return node_ids_crc32(node_ids)


def make_dag(*node_ids: str, **extra: Any) -> dict[str, Any]:
    return chain_dag(node_ids, **extra)


def submission_body(dag: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid POST /strategies body (base64 DAG), with fields overridden as given."""
    dag = dag if dag is not None else make_dag("a", "b", "c")
    fields: dict[str, Any] = {"meta": {"execution_domain": "live"}, "world_ids": ["w1"]}
    fields.update(overrides)
    return strategy_body(dag, **fields)


def race_two(
    monkeypatch: pytest.MonkeyPatch, service: ModuleType, request: Callable[[APIClient], Any]
) -> list[Any]:
    """Two threads' `request`s released together at `service`'s `now_stamp` (past
    validation, before any write), each with a client and a database connection of its
    own; their responses, in the order they came back."""
    barrier = threading.Barrier(2)
    original_stamp = clock.now_stamp

    def synchronised_stamp() -> Any:
        barrier.wait(timeout=10)
        return original_stamp()

    results: list[Any] = []

    def one() -> None:
        try:
            results.append(request(APIClient()))
        finally:
            connections.close_all()

    monkeypatch.setattr(service, "now_stamp", synchronised_stamp)
    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
