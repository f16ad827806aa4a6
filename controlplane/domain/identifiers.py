"""Ids (world ids, symbols, strategy ids, execution domains, modes) refuse characters that
change how text is split or shown: control characters (Cc: a newline forges a log line),
format characters (Cf: zero-width and bidirectional overrides make one id look like
another in the admin) and the line and paragraph separators (Zl, Zp)."""

from __future__ import annotations

import unicodedata

from controlplane.errors import InvalidIdentifier

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def unsafe_character(text: str) -> str | None:
    """The first refused character of `text`, or None."""
    if text.isprintable():  # every refused category is unprintable: the common case, in C
        return None
    for char in text:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return char
    return None


def unsafe_message(name: str, char: str) -> str:
    category = unicodedata.category(char)
    return (
        f"{name} contains U+{ord(char):04X} ({category}): ids refuse control and format characters"
    )


def check_identifier(value: object, field: str) -> None:
    """Refuse (422 E_INVALID_ID, naming `field`) a string id holding a refused character."""
    if isinstance(value, str) and (char := unsafe_character(value)) is not None:
        raise InvalidIdentifier(unsafe_message(field, char), field=field)


def check_canonical(value: str, field: str) -> None:
    """Refuse (422 E_INVALID_ID) a world id that Unicode compatibility folding (NFKC)
    changes: `wb` in fullwidth letters (U+FF57 U+FF42) would be a world distinct from
    `wb` that looks the same in the admin."""
    folded = unicodedata.normalize("NFKC", value)
    if folded != value:
        raise InvalidIdentifier(
            f"{field} is not in Unicode NFKC form: write it as {folded!r}", field=field
        )
