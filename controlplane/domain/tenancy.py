"""The scope a DAG is unique in: a tenant's, named by the worlds its credentials are
limited to, or the global scope of unlimited credentials (docs/API.md, "POST /strategies").

One DAG is one strategy within a scope, as qmtl's gateway has it for its single tenant:
another tenant's copy of the same DAG neither blocks a submission nor is named to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

GLOBAL_SCOPE = ""  # unlimited credentials, anonymous dev calls, rows without a credential


def dag_owner_scope(allowed_worlds: Iterable[str]) -> str:
    """The scope of a credential limited to `allowed_worlds` (empty: unlimited): the
    SHA-256 of the sorted worlds, so credentials with the same worlds share it whatever
    their order, and the column stays narrow however many worlds there are."""
    worlds = sorted(set(allowed_worlds))
    if not worlds:
        return GLOBAL_SCOPE
    return hashlib.sha256(json.dumps(worlds, separators=(",", ":")).encode()).hexdigest()
