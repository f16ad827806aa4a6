"""Turning arbitrary Python values into plain JSON values, and bounding JSON depth."""

from __future__ import annotations

import json
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


# Digits of the largest double (1.8e308): a longer integer cannot fit, and is refused
# before Python converts it (a conversion whose cost grows with the square of its length).
_DOUBLE_INT_DIGITS = 309


def token_fits_double(token: str) -> bool:
    """Whether a JSON number token (int or float syntax) is within a double's range."""
    integer = "." not in token and "e" not in token and "E" not in token
    if integer and len(token) - token.startswith("-") > _DOUBLE_INT_DIGITS:
        return False
    return math.isfinite(float(token))


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


def json_depth(value: object) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), without recursion.

    One level at a time, keeping only the containers: it runs on every request's DAG,
    and building a (value, depth) pair per value made it cost as much as parsing.
    """
    depth = 0
    level: list[Any] = [value] if type(value) in (dict, list) else []
    while level:
        depth += 1
        below: list[Any] = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
        level = below
    return depth


def contains_nul(value: object) -> bool:
    """True when a NUL character hides in any string or key (PostgreSQL's JSON refuses it)."""
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def contains_lone_surrogate(value: object) -> bool:
    """True when a string or key holds a lone UTF-16 surrogate (U+D800-U+DFFF).

    JSON's `\\ud800` escape produces one, but it is not valid Unicode: it cannot be
    encoded as UTF-8 for Kafka, and PostgreSQL's JSON refuses it.
    """
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def may_hold_escaped_nul(text: str | bytes) -> bool:
    """Cheap pre-check on JSON text for `contains_nul` of what it parses to.

    Strict JSON refuses raw control characters, so a NUL can only come from a `\\u0000`
    escape: without one, the walk over the parsed value can be skipped.
    """
    if isinstance(text, bytes):
        return b"\\u0000" in text
    return "\\u0000" in text


def may_hold_escaped_surrogate(text: str | bytes) -> bool:
    """Cheap pre-check on JSON text: a surrogate can only come from a `\\uDxxx` escape."""
    if isinstance(text, bytes):
        return b"\\ud" in text or b"\\uD" in text
    return "\\ud" in text or "\\uD" in text
