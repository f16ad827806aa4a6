"""DAG decoding, checksum, hash and sentinel (pure code)."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib

import pytest

from controlplane.domain import dag as dags
from controlplane.errors import ChecksumMismatch, InvalidDag


def test_crc_is_chained_over_node_ids_in_order() -> None:
    expected = zlib.crc32(b"b", zlib.crc32(b"a", 0)) & 0xFFFFFFFF
    assert dags.node_ids_crc32(["a", "b"]) == expected
    assert dags.node_ids_crc32(["b", "a"]) != expected
    assert dags.node_ids_crc32([]) == 0


def test_checksum_mismatch_is_rejected() -> None:
    with pytest.raises(ChecksumMismatch):
        dags.verify_checksum(["a", "b"], dags.node_ids_crc32(["a", "b"]) + 1)
    dags.verify_checksum(["a", "b"], dags.node_ids_crc32(["a", "b"]))


def test_dag_json_accepts_base64_and_plain_json() -> None:
    dag = {"nodes": [{"node_id": "x"}]}
    text = json.dumps(dag)
    assert dags.decode_dag_json(base64.b64encode(text.encode()).decode(), max_depth=8) == dag
    assert dags.decode_dag_json(text, max_depth=8) == dag
    assert dags.decode_dag_json("  " + text + "\n", max_depth=8) == dag


def test_dag_nesting_is_bounded() -> None:
    # {"nodes": [{"node_id": "x", "v": [[...]]}]}: 3 levels, then the lists.
    def nested(lists: int) -> str:
        return '{"nodes": [{"node_id": "x", "v": %s}]}' % ("[" * lists + "]" * lists)

    assert dags.decode_dag_json(nested(5), max_depth=8)["nodes"][0]["node_id"] == "x"
    with pytest.raises(InvalidDag, match="nests deeper than 8 levels"):
        dags.decode_dag_json(nested(6), max_depth=8)
    # Past the parser's own recursion limit: the same answer, not a parse error.
    with pytest.raises(InvalidDag, match="nests deeper than 8 levels"):
        dags.decode_dag_json(nested(100_000), max_depth=8)


@pytest.mark.parametrize(
    "dag_json",
    [
        "",
        "not base64!",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2]").decode(),
        "{broken",
    ],
)
def test_undecodable_dag_json_is_invalid(dag_json: str) -> None:
    with pytest.raises(InvalidDag):
        dags.decode_dag_json(dag_json, max_depth=8)


@pytest.mark.parametrize(
    "dag",
    [
        {},
        {"nodes": {}},
        {"nodes": []},
        {"nodes": ["a"]},
        {"nodes": [{"node_type": "X"}]},
        {"nodes": [{"node_id": ""}]},
        {"nodes": [{"node_id": "   "}]},
        {"nodes": [{"node_id": 7}]},
        {"nodes": [{"node_id": "a"}, {"node_id": "a"}]},
    ],
)
def test_dags_without_proper_node_ids_are_invalid(dag: dict[str, object]) -> None:
    with pytest.raises(InvalidDag):
        dags.node_ids(dag)


def test_dag_hash_is_sha256_of_sorted_keys_json() -> None:
    dag = {"nodes": [{"node_id": "a", "b": 1}], "z": 1, "a": 2}
    reordered = {"a": 2, "z": 1, "nodes": [{"b": 1, "node_id": "a"}]}
    expected = hashlib.sha256(json.dumps(dag, sort_keys=True).encode()).hexdigest()
    assert dags.dag_hash(dag) == expected
    assert dags.dag_hash(reordered) == expected


def test_sentinel_is_appended_to_a_copy_with_version() -> None:
    dag = {"nodes": [{"node_id": "a"}], "name": "s"}
    stored = dags.with_sentinel(dag, "sid", "1.2")
    assert dag == {"nodes": [{"node_id": "a"}], "name": "s"}
    assert stored["nodes"][-1] == {
        "node_type": "VersionSentinel",
        "node_id": "sid-sentinel",
        "version": "1.2",
    }
    assert stored["name"] == "s"


def test_sentinel_without_version_has_no_version_key() -> None:
    stored = dags.with_sentinel({"nodes": [{"node_id": "a"}]}, "sid", None)
    assert "version" not in stored["nodes"][-1]


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"version": " v1 ", "strategy_version": "v2", "build_version": "v3"}, "v1"),
        ({"version": "  ", "strategy_version": "v2", "build_version": "v3"}, "v2"),
        ({"version": 5, "strategy_version": "", "build_version": " v3"}, "v3"),
        ({"strategy_version": None, "build_version": "b"}, "b"),
        ({"other": "x"}, None),
        (None, None),
    ],
)
def test_sentinel_version_precedence(meta: dict[str, object] | None, expected: str | None) -> None:
    assert dags.version_from_meta(meta) == expected


def test_dag_base64_is_base64_of_plain_json_dumps() -> None:
    dag = {"nodes": [{"node_id": "a"}], "b": 1}
    assert base64.b64decode(dags.dag_base64(dag)) == json.dumps(dag).encode()
