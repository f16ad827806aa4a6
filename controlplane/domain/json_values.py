"""Turning arbitrary Python values into plain JSON values, and naming a place in one
(the bounds of JSON text are in json_bounds)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

JsonValue = Any


def coerce_json(value: object) -> JsonValue:
    """A JSON-safe copy: keys to strings, tuples and sets to lists, other values to str.

    Sets have no order, so their items are sorted (by their text when they do not
    compare) to keep the stored value, and so the record bytes, deterministic.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(key): coerce_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [coerce_json(item) for item in value]
    if isinstance(value, set | frozenset):
        items = [coerce_json(item) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    return str(value)


def path_to(value: object, target: object) -> str:
    """Where `target` (by identity) sits in a parsed JSON value: `orders[0].quantity`."""
    stack: list[tuple[object, str]] = [(value, "")]
    while stack:
        item, where = stack.pop()
        if item is target:
            return where
        if isinstance(item, dict):
            for key, child in item.items():
                stack.append((child, f"{where}.{key}" if where else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
    return ""
