"""A forged log line the log tests try to inject."""

from __future__ import annotations

FORGED = "ts=2026-12-01T10:00:00.000 level=INFO logger=controlplane event=credential_revoked"


_ESCAPED = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}


def logfmt_fields(line: str) -> dict[str, str]:
    """The fields of one log line, read as logfmt: `key=value` tokens apart by one space,
    a value bare or double-quoted with backslash escapes. AssertionError on anything else
    (a bare word, a repeated key), naming where."""
    fields: dict[str, str] = {}
    at = 0
    while at < len(line):
        equals = line.find("=", at)
        key = line[at:equals] if equals != -1 else line[at:]
        assert equals > at, f"no key=value at {line[at:]!r}"
        assert " " not in key, f"no key=value at {line[at:]!r}"
        assert '"' not in key, f"no key=value at {line[at:]!r}"
        at = equals + 1
        if line.startswith('"', at):
            value, at = _quoted_value(line, at + 1)
        else:
            end = line.find(" ", at)
            end = len(line) if end == -1 else end
            value, at = line[at:end], end
            assert '"' not in value, f"{key}: {value!r} is not one value"
            assert "=" not in value, f"{key}: {value!r} is not one value"
        assert key not in fields, f"{key} twice in {line!r}"
        fields[key] = value
        assert at == len(line) or line[at] == " ", f"no space after {key} in {line!r}"
        at += 1
    return fields


def _quoted_value(line: str, at: int) -> tuple[str, int]:
    out: list[str] = []
    while True:
        assert at < len(line), f"unterminated quote in {line!r}"
        char = line[at]
        if char == '"':
            return "".join(out), at + 1
        if char == "\\":
            code = line[at + 1]
            if code == "u":
                out.append(chr(int(line[at + 2 : at + 6], 16)))
                at += 6
                continue
            out.append(_ESCAPED[code])
            at += 2
            continue
        out.append(char)
        at += 1
