"""One rule for showing stored text to a person, in a log line or on an admin page: every
character that is not printable (controls, bidirectional overrides and isolates, zero-width
and other format characters, separators) is written as its escape, so `fx\\u202elive` reads
as what was stored and never reorders or hides what surrounds it."""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped(char: str) -> str:
    """One unprintable character as the text of its escape."""
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str, *, keep: str = "") -> bool:
    """Whether every character of `text` prints, or is one of `keep`; at C speed (a page
    is long): str.replace per kept character, several times faster than str.translate."""
    if text.isprintable():
        return True
    for char in keep:
        text = text.replace(char, "")
    return bool(keep) and text.isprintable()


def visible(text: str, *, keep: str = "") -> str:
    """`text` with every unprintable character but those of `keep` escaped."""
    if printable(text, keep=keep):
        return text  # the common case
    return "".join(c if c.isprintable() or c in keep else escaped(c) for c in text)
