"""URLs of every route Django resolves, with sample values in their converters."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

# Documented as public (README: REST API): the probes, qmtl's health answer, the JSON 404
# of every unknown path ("/" stands for that catch-all route) and the admin's redirect.
PUBLIC_PROBES = {"/healthz", "/readyz", "/health", "/", "/admin"}


ADMIN_WAY_IN = {"/admin/login/", "/admin/logout/"}  # the login page and the way out


SAMPLES = {  # a value for each path converter; an unknown converter fails the collection
    "str": "sample",
    "path": "1",
    "int": "1",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


CONVERTER = re.compile(r"<(?:(?P<kind>\w+):)?(?P<name>\w+)>")


NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


def _fill_regex_group(match: re.Match[str]) -> str:
    body = match["body"]
    if re.fullmatch(r"\w+(\|\w+)*", body):  # an alternation of words: take the first
        return body.split("|")[0]
    return "no-such-page"  # `.*` and friends


def concrete_path(route: str) -> str:
    """A URL that the resolver sends to `route` (converters filled with sample values)."""
    path = NAMED_GROUP.sub(_fill_regex_group, route)  # regex routes first: `(?P<name>...)`
    path = CONVERTER.sub(lambda m: SAMPLES[m["kind"] or "str"], path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\Z", "")


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield route


ROUTES = {route: concrete_path(route) for route in _walk(get_resolver().url_patterns)}


API_ROUTES = sorted(
    path for path in ROUTES.values() if not path.startswith("/admin/") and path not in PUBLIC_PROBES
)


ADMIN_ROUTES = sorted(
    path for path in ROUTES.values() if path.startswith("/admin/") and path not in ADMIN_WAY_IN
)
