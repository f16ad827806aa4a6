"""What JSON text the service takes, in one place for the request body, the DAG inside
it and the orders: numbers a double can hold, a bounded depth, no NUL and no lone
surrogate. The parser and the DAG decoder both parse through `bounded_loads`."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

# Digits of the largest double (1.8e308): a longer integer cannot fit, and is refused
# before Python converts it (a conversion whose cost grows with the square of its length).
DOUBLE_INT_DIGITS = 309


class JsonBoundError(ValueError):
    """Parsed JSON beyond a bound; `kind` is one of depth, nul, surrogate, constant."""

    def __init__(self, kind: str, message: str, subject: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.subject = subject  # what was refused, where it is one token (NaN, Infinity)


def number_fits_double(token: str) -> bool:
    """Whether a JSON number token (int or float syntax) is within a double's range."""
    integer = "." not in token and "e" not in token and "E" not in token
    if integer and len(token) - token.startswith("-") > DOUBLE_INT_DIGITS:
        return False
    return math.isfinite(float(token))


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


def has_lone_surrogate(text: str) -> bool:
    """True when `text` holds a lone UTF-16 surrogate (U+D800-U+DFFF): JSON's `\\ud800`
    escape makes one, but it is not Unicode, so neither Kafka's UTF-8 nor PostgreSQL's
    JSON can carry it. Encoding fails exactly then, and runs in C."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def contains_lone_surrogate(value: object) -> bool:
    """`has_lone_surrogate` for any string or key inside a parsed JSON value."""
    return has_lone_surrogate(json.dumps(value, ensure_ascii=False))


class _Numbers:
    """Number hooks for json.loads: a number a double cannot hold goes to `too_large`."""

    def __init__(self, too_large: Callable[[str], Any]) -> None:
        self.too_large = too_large

    def integer(self, token: str) -> Any:
        # Below DOUBLE_INT_DIGITS - 9 digits every integer fits: no float conversion.
        if len(token) < DOUBLE_INT_DIGITS - 9 or number_fits_double(token):
            return int(token)
        return self.too_large(token)

    def real(self, token: str) -> Any:
        value = float(token)
        return value if math.isfinite(value) else self.too_large(token)


def _refuse_constant(name: str) -> Any:
    # Python's parser takes NaN and Infinity; the record encoder and jsonb refuse them.
    raise JsonBoundError("constant", f"{name} is not a JSON number", subject=name)


def bounded_loads(text: str, *, max_depth: int, too_large: Callable[[str], Any]) -> Any:
    """Parse JSON text within the bounds. A number beyond a double is given to
    `too_large`, whose answer stands in its place (or which raises). Raises
    JsonBoundError for the other bounds, ValueError for text that is not JSON."""
    numbers = _Numbers(too_large)
    too_deep = f"nests deeper than {max_depth} levels"
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=numbers.integer,
            parse_float=numbers.real,
        )
    except RecursionError:
        raise JsonBoundError("depth", too_deep) from None
    # Near the interpreter's recursion limit a value that parsed could no longer be
    # encoded for its record: bounded here, it is refused before anything is written.
    if json_depth(value) > max_depth:
        raise JsonBoundError("depth", too_deep)
    # Strict JSON refuses raw control characters, so a NUL or a surrogate can only come
    # from a `\u` escape: without one in the text the walk over the value is skipped.
    if "\\u0000" in text and contains_nul(value):
        raise JsonBoundError("nul", "NUL characters (\\u0000) are not allowed")
    if ("\\ud" in text or "\\uD" in text) and contains_lone_surrogate(value):
        raise JsonBoundError(
            "surrogate", "lone surrogates (\\ud800-\\udfff escapes) are not valid Unicode"
        )
    return value
