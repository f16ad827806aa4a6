"""What profile prod refuses besides missing settings: debug mode, a weak or placeholder
secret key and a wildcard host. Each refusal is one problem line for the EnvReader, which
never repeats the key itself. Free of Django, like config.env."""

from __future__ import annotations

import math
from collections import Counter

from config.env import EnvReader

# As Django's own deploy check (security.W009): at least this long ...
SECRET_KEY_MIN_LENGTH = 50
# ... and, estimated from its characters' frequencies, at least this many bits.
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
GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def estimated_bits(value: str) -> float:
    """Shannon entropy of the characters, times the length: an upper bound on what the
    value can hold, low for short keys, few distinct characters or one character dominating."""
    counts = Counter(value)
    total = len(value)
    per_char = -sum(n / total * math.log2(n / total) for n in counts.values()) if total else 0.0
    return per_char * total


def _repeats_a_pattern(value: str) -> bool:
    # "abcdefgh" * 8 has many distinct characters and still holds only eight of them.
    return any(
        len(value) % size == 0 and value == value[:size] * (len(value) // size)
        for size in range(1, len(value) // 2 + 1)
    )


def secret_key_weakness(key: str) -> str | None:
    """Why `key` must not sign prod sessions, or None when nothing is found."""
    if key.startswith("django-insecure-"):
        return "has Django's django-insecure- prefix (a generated development key)"
    lowered = key.lower()
    for marker in PLACEHOLDER_MARKERS:
        if marker in lowered:
            return f"looks like a placeholder (it contains {marker!r})"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"is {len(key)} characters long; at least {SECRET_KEY_MIN_LENGTH} are needed"
    if _repeats_a_pattern(key):
        return "repeats a shorter pattern"
    bits = estimated_bits(key)
    if bits < SECRET_KEY_MIN_BITS:
        return f"is too predictable (about {bits:.0f} bits, at least {SECRET_KEY_MIN_BITS} needed)"
    return None


def refuse_weak_prod_settings(
    read: EnvReader, *, debug: bool, secret_key: str, allowed_hosts: list[str]
) -> None:
    """Add to `read` a problem for each setting prod must not run with."""
    if debug:
        read.problem("DJANGO_DEBUG cannot be enabled with profile prod")
    # An absent key is already reported as missing.
    weakness = secret_key_weakness(secret_key) if read.text("DJANGO_SECRET_KEY", "") else None
    if weakness is not None:
        read.problem(f"DJANGO_SECRET_KEY {weakness}; generate one with {GENERATE_HINT}")
    wildcards = [host for host in allowed_hosts if "*" in host]
    if wildcards:
        read.problem(
            f"DJANGO_ALLOWED_HOSTS cannot hold a wildcard ({', '.join(wildcards)}) with profile "
            "prod: name the hosts (.example.com allows its subdomains)"
        )
