"""Hypothesis strategies of JSON values and timestamps shared by the property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)


json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=25,
)


timestamps = st.integers(min_value=0, max_value=2**63)


def well_formed(body: Any) -> bool:
    """The record format (docs/API.md), restated: [event, timestamp_ms, id, payload]."""
    if not isinstance(body, list) or len(body) != 4:
        return False
    event, timestamp, record_id, payload = body
    return (
        event in ("gateway.ingest", "gateway.rebalance")
        and type(timestamp) is int
        and timestamp >= 0
        and isinstance(record_id, str)
        and record_id != ""
        and isinstance(payload, dict)
        and payload.get("event") == event
    )
