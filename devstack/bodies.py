"""Request bodies of POST /strategies as a client builds them: the one builder the demo
data, the tests, the fault-injection load and the benchmarks share."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Sequence
from typing import Any


def node_ids_crc32(node_ids: Iterable[str]) -> int:
    """The client's checksum: CRC32 chained over the node ids in order."""
    crc = 0
    for node_id in node_ids:
        crc = zlib.crc32(node_id.encode(), crc)
    return crc & 0xFFFFFFFF


def chain_dag(
    node_ids: Sequence[str], node_type: str = "Indicator", **extra: Any
) -> dict[str, Any]:
    """A DAG of the given nodes, in order, with extra top-level keys."""
    return {"nodes": [{"node_id": n, "node_type": node_type} for n in node_ids], **extra}


def strategy_body(
    dag: dict[str, Any],
    *,
    world_ids: Sequence[str] | None,
    meta: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A POST /strategies body with the DAG as base64 of its JSON, as qmtl's SDK sends it,
    and its checksum; `extra` adds or overrides fields (a `context`, a bad checksum).
    `world_ids=None` sends null, for the tests of that refusal."""
    body: dict[str, Any] = {
        "dag_json": base64.b64encode(json.dumps(dag).encode()).decode("ascii"),
        "meta": meta,
        "world_ids": None if world_ids is None else list(world_ids),
        "node_ids_crc32": node_ids_crc32(node["node_id"] for node in dag["nodes"]),
    }
    body.update(extra)
    return body
