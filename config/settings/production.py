"""What profile prod refuses besides missing settings. Each refusal is one problem line
for the EnvReader, which never repeats a secret itself.

Debug mode and anonymous API access are always refused. Each other check has a name, and
`PROD_ALLOW_WEAK=<name>,<name>` accepts what it would refuse, for a trusted network (a
test machine, a stack whose Redis no one else reaches): the line then is not written.
docs/SECURITY.md, "Production settings", says what each check looks at. Free of Django's
settings, like config.env."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple
from urllib.parse import urlsplit

from config.env import EnvReader
from config.settings.strength import is_well_known_password, secret_key_weakness

GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
ALLOW_WEAK = "PROD_ALLOW_WEAK"
# Two-label public suffixes an ALLOWED_HOSTS entry `.co.uk` would open whole; any single
# label (`.com`, `.internal`) is refused as a top-level domain.
PUBLIC_SUFFIXES = frozenset(
    {
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "com.au", "net.au", "org.au",
        "co.jp", "ne.jp", "or.jp", "co.nz", "co.za", "co.in", "co.kr", "com.br", "com.cn",
        "com.mx", "com.sg", "com.tw", "com.tr", "github.io", "gitlab.io", "pages.dev",
        "vercel.app", "netlify.app", "herokuapp.com", "appspot.com", "azurewebsites.net",
        "cloudfront.net", "amazonaws.com", "onrender.com", "fly.dev",
    }
)  # fmt: skip


class ProdValues(NamedTuple):
    """What the checks look at, as config.settings read it."""

    secret_key: str
    allowed_hosts: list[str]
    database_url: str  # blank when absent, like the secret key
    redis_urls: dict[str, str]  # setting name -> URL, for each setting that points at Redis
    signing_keys: tuple[str, ...]
    lockout_minutes: float
    throttle_rates: dict[str, object]  # setting name -> rate, None when off
    hsts_seconds: int


def _secret_key(values: ProdValues) -> Iterator[str]:
    weakness = secret_key_weakness(values.secret_key) if values.secret_key.strip() else None
    if weakness is not None:
        yield f"DJANGO_SECRET_KEY {weakness}; generate one with {GENERATE_HINT}"


def _allowed_hosts(values: ProdValues) -> Iterator[str]:
    wildcards = [host for host in values.allowed_hosts if "*" in host]
    if wildcards:
        yield (
            f"DJANGO_ALLOWED_HOSTS cannot hold a wildcard ({', '.join(wildcards)}) with "
            "profile prod: name the hosts (.example.com allows its subdomains)"
        )
    suffixes = [
        host
        for host in values.allowed_hosts
        if host.startswith(".") and ("." not in host[1:] or host[1:].lower() in PUBLIC_SUFFIXES)
    ]
    if suffixes:
        yield (
            f"DJANGO_ALLOWED_HOSTS entries {', '.join(suffixes)} match every host of a public "
            "suffix: name your own domain (.example.com)"
        )


def _database_password(values: ProdValues) -> Iterator[str]:
    url = urlsplit(values.database_url)
    if values.database_url and is_well_known_password(url.password or "", url.username or ""):
        yield "DATABASE_URL has an empty or well-known password"


def _redis_password(values: ProdValues) -> Iterator[str]:
    for name, location in values.redis_urls.items():
        url = urlsplit(location)
        if is_well_known_password(url.password or "", url.username or ""):
            yield f"{name} points at a Redis with no password or a well-known one"


def _signing_key(values: ProdValues) -> Iterator[str]:
    if not values.signing_keys:
        yield "COMMITLOG_SIGNING_KEY is not set: the consumer would apply unsigned records"


def _login_lockout(values: ProdValues) -> Iterator[str]:
    if values.lockout_minutes <= 0:
        yield "ADMIN_LOGIN_LOCKOUT_MINUTES=0 turns the admin login lockout off"


def _throttling(values: ProdValues) -> Iterator[str]:
    for name, rate in values.throttle_rates.items():
        if rate is None:
            what = "token guesses" if name == "API_AUTH_FAILURE_RATE" else "a credential's calls"
            yield f"{name}=off leaves {what} unbounded"


def _hsts(values: ProdValues) -> Iterator[str]:
    if values.hsts_seconds <= 0:
        yield "DJANGO_SECURE_HSTS_SECONDS=0 sends no Strict-Transport-Security"


# Each check's name, as PROD_ALLOW_WEAK takes it, in the order the lines come.
CHECKS: dict[str, Callable[[ProdValues], Iterator[str]]] = {
    "secret_key": _secret_key,
    "allowed_hosts": _allowed_hosts,
    "database_password": _database_password,
    "redis_password": _redis_password,
    "signing_key": _signing_key,
    "login_lockout": _login_lockout,
    "throttling": _throttling,
    "hsts": _hsts,
}


def weak_settings(values: ProdValues, allowed: frozenset[str] = frozenset()) -> list[str]:
    """A line for each weakness found by a check not in `allowed`."""
    return [
        f"{line} ({ALLOW_WEAK}={name} accepts it)"
        for name, check in CHECKS.items()
        if name not in allowed
        for line in check(values)
    ]


def refuse_weak_prod_settings(read: EnvReader, values: ProdValues, *, debug: bool) -> None:
    """Add to `read` a problem for each setting prod must not run with."""
    if debug:
        read.problem("DJANGO_DEBUG cannot be enabled with profile prod")
    allowed = frozenset(read.items(ALLOW_WEAK, []))
    unknown = sorted(allowed - CHECKS.keys())
    if unknown:
        read.problem(
            f"{ALLOW_WEAK} names no check {', '.join(unknown)} (the checks: {', '.join(CHECKS)})"
        )
    for line in weak_settings(values, allowed):
        read.problem(line)
