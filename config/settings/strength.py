"""How strong a secret is, for profile prod's start-up checks (config.settings.production).
Free of Django's settings (it reads only the password list Django ships).

A key's strength is estimated, not measured: the estimate is meant to refuse keys a person
made up or copied, and to pass keys a generator made.

- Every character is worth log2(the number of distinct characters in the key) bits: a key
  drawn from hex digits is worth 4 bits a character whatever its length; one drawn from
  the 64 characters of `secrets.token_urlsafe` about 6.
- A character is worth nothing when it follows from the ones before: it repeats the
  previous one or steps by one from it (`aaaa`, `abcd`, `9876`), or it ends three
  characters already seen earlier in the key (any repeated fragment: `passwordpassword`).
- A hex digest (MD5, SHA-1, SHA-256, SHA-512) of a password on Django's list of 20,000
  common ones looks random and is refused by name.
"""

from __future__ import annotations

import gzip
import hashlib
import math
from functools import cache
from pathlib import Path

import django

# As Django's own deploy check (security.W009): at least this long ...
SECRET_KEY_MIN_LENGTH = 50
# ... and worth at least this many bits by the estimate above.
SECRET_KEY_MIN_BITS = 128
# Words found in the sample values of documentation and compose files, never in a key
# that was generated.
PLACEHOLDER_MARKERS = (
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "placeholder",
    "insecure",
    "example",
    "dev-only",
)
# Defaults of images and tutorials, beside Django's list of common passwords.
SERVICE_DEFAULT_PASSWORDS = frozenset(
    {"postgres", "postgresql", "redis", "controlplane", "admin", "root", "secret", "test"}
)
_DIGESTS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_HEX = frozenset("0123456789abcdef")
_COMMON_PASSWORDS = Path(django.__file__).parent / "contrib" / "auth" / "common-passwords.txt.gz"
_FRAGMENT = 3  # a repeated fragment is this many characters or more


@cache
def common_passwords() -> frozenset[str]:
    """Django's list of common passwords (lower case), with the services' defaults."""
    words = gzip.decompress(_COMMON_PASSWORDS.read_bytes()).decode().split()
    return frozenset(words) | SERVICE_DEFAULT_PASSWORDS


@cache
def _common_digests(algorithm: str) -> frozenset[str]:
    return frozenset(hashlib.new(algorithm, w.encode()).hexdigest() for w in common_passwords())


def is_common_digest(value: str) -> bool:
    """Whether `value` is the hex digest of a common password."""
    lowered = value.lower()
    algorithm = _DIGESTS.get(len(lowered))
    return (
        algorithm is not None
        and _HEX.issuperset(lowered)
        and (lowered in _common_digests(algorithm))
    )


def estimated_bits(value: str) -> float:
    """The estimate of the module's docstring."""
    distinct = len(set(value))
    if distinct < 2:
        return 0.0
    free = 0
    for index, char in enumerate(value):
        follows = index > 0 and abs(ord(char) - ord(value[index - 1])) <= 1
        start = index - _FRAGMENT + 1
        repeats = start > 0 and value[start : index + 1] in value[:index]
        if not (follows or repeats):
            free += 1
    return free * math.log2(distinct)


def is_well_known_password(password: str, user: str = "") -> bool:
    """Empty, the user's own name, or on the common list (any case)."""
    lowered = password.lower()
    return not password or lowered == user.lower() or lowered in common_passwords()


def secret_key_weakness(key: str) -> str | None:
    """Why `key` must not sign prod sessions, or None when nothing is found."""
    if key.startswith("django-insecure-"):
        return "has Django's django-insecure- prefix (a generated development key)"
    lowered = key.lower()
    for marker in PLACEHOLDER_MARKERS:
        if marker in lowered:
            return f"looks like a placeholder (it contains {marker!r})"
    if is_common_digest(key):
        return "is the digest of a common password"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"is {len(key)} characters long; at least {SECRET_KEY_MIN_LENGTH} are needed"
    bits = estimated_bits(key)
    if bits < SECRET_KEY_MIN_BITS:
        return f"is too predictable (about {bits:.0f} bits, at least {SECRET_KEY_MIN_BITS} needed)"
    return None
