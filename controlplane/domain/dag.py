"""Strategy DAG handling: decoding, validation, checksum, hash and the VersionSentinel."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from controlplane.domain.json_bounds import JsonBoundError, bounded_loads
from controlplane.errors import ChecksumMismatch, InvalidDag

SENTINEL_NODE_TYPE = "VersionSentinel"
_VERSION_META_KEYS = ("version", "strategy_version", "build_version")
_NOT_A_JSON_NUMBER = "the DAG holds {}, which JSON numbers cannot carry"


def _refuse_too_large(token: str) -> None:
    shown = f"an integer of {len(token)} digits" if len(token) > 40 else token
    raise InvalidDag(_NOT_A_JSON_NUMBER.format(f"{shown} (beyond a double)"))


def _dag_text(dag_json: str) -> str:
    text = dag_json.strip()
    if not text:
        raise InvalidDag("dag_json is empty")
    if not text.startswith("{"):
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise InvalidDag("dag_json is neither base64 nor a JSON object") from exc
    return text


def decode_dag_json(dag_json: str | Mapping[str, Any], *, max_depth: int) -> dict[str, Any]:
    """Parse `dag_json`: base64 of the DAG JSON, or the JSON itself, nesting at most
    `max_depth` levels (the request body's bound, which a DAG inside a string escapes),
    or the DAG as a parsed object.

    A JSON object starts with `{`, which is not a base64 character, so the two
    forms cannot be confused. An object is judged as its JSON text would be: encoded and
    parsed again, so one set of bounds holds for every form (a NaN, a number beyond a
    double, a NUL or a lone surrogate becomes an escape or a token the parse refuses).
    """
    if isinstance(dag_json, Mapping):
        try:
            text = json.dumps(dag_json, allow_nan=False)
        except ValueError:
            raise InvalidDag(_NOT_A_JSON_NUMBER.format("NaN or Infinity")) from None
        except RecursionError:
            raise InvalidDag(f"the DAG nests deeper than {max_depth} levels") from None
    else:
        text = _dag_text(dag_json)
    try:
        dag = bounded_loads(text, max_depth=max_depth, too_large=_refuse_too_large)
    except JsonBoundError as exc:
        if exc.kind == "constant":
            raise InvalidDag(_NOT_A_JSON_NUMBER.format(exc.subject)) from None
        raise InvalidDag(f"the DAG {exc}" if exc.kind == "depth" else f"the DAG: {exc}") from None
    except ValueError as exc:
        raise InvalidDag("dag_json does not decode to JSON") from exc
    if not isinstance(dag, dict):
        raise InvalidDag("the DAG must be a JSON object")
    return dag


def node_ids(dag: Mapping[str, Any]) -> list[str]:
    """The DAG's node ids, in order; raises InvalidDag unless every node has one."""
    nodes = dag.get("nodes")
    if not isinstance(nodes, list):
        raise InvalidDag("the DAG must have a `nodes` list")
    if not nodes:
        raise InvalidDag("the DAG has no nodes")
    ids: list[str] = []
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise InvalidDag(f"nodes[{index}] is not an object")
        node_id = node.get("node_id")
        if not isinstance(node_id, str) or not node_id.strip():
            raise InvalidDag(f"nodes[{index}] has no non-empty string node_id")
        if node_id in seen:
            raise InvalidDag(f"node_id {node_id!r} appears more than once")
        seen.add(node_id)
        ids.append(node_id)
    return ids


def node_ids_crc32(ids: Iterable[str]) -> int:
    """CRC32 chained over the node ids in order (the client computes the same)."""
    crc = 0
    for node_id in ids:
        crc = zlib.crc32(node_id.encode(), crc)
    return crc & 0xFFFFFFFF


def verify_checksum(ids: Iterable[str], claimed: int) -> None:
    expected = node_ids_crc32(ids)
    if expected != claimed:
        raise ChecksumMismatch(
            f"node_ids_crc32 {claimed} does not match the DAG's node ids (expected {expected})"
        )


def dag_hash(dag: Mapping[str, Any]) -> str:
    """SHA-256 hex of the DAG as submitted, canonicalised by sorted keys."""
    return hashlib.sha256(json.dumps(dag, sort_keys=True).encode()).hexdigest()


def sentinel_id(strategy_id: str) -> str:
    return f"{strategy_id}-sentinel"


def version_from_meta(meta: Mapping[str, Any] | None) -> str | None:
    """The first non-blank string among meta.version, .strategy_version, .build_version."""
    if not meta:
        return None
    for key in _VERSION_META_KEYS:
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def with_sentinel(dag: Mapping[str, Any], strategy_id: str, version: str | None) -> dict[str, Any]:
    """A copy of the DAG with the VersionSentinel node appended; the input is untouched.

    The copy is shallow (new top-level object and `nodes` list, shared nodes): nothing
    downstream mutates a DAG, and a deep copy of 20 nodes cost 0.6 ms a submission.
    """
    stored = dict(dag)
    node: dict[str, Any] = {"node_type": SENTINEL_NODE_TYPE, "node_id": sentinel_id(strategy_id)}
    if version is not None:
        node["version"] = version
    stored["nodes"] = [*stored["nodes"], node]
    return stored


def dag_text(dag: Mapping[str, Any]) -> str:
    """The DAG as JSON text: what `dag_base64` encodes, and what the stored column parses."""
    return json.dumps(dag)


def dag_base64(dag: Mapping[str, Any], text: str | None = None) -> str:
    """base64 of `dag_text(dag)`; pass that text when it is at hand, to encode the DAG once."""
    return base64.b64encode((dag_text(dag) if text is None else text).encode()).decode("ascii")
