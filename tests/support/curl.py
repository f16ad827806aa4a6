"""A documented or printed curl command read back as the request it sends, so a test can
send that very request to the API."""

from __future__ import annotations

import json
import re
import shlex
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class CurlRequest:
    method: str
    url: str
    path: str
    headers: dict[str, str]
    body: Any  # the JSON of `-d`, None without one


def curl_request(command: str) -> CurlRequest:
    """The request of one `curl ...` command (shell quoting and `\\` line breaks as bash
    reads them); only the options the project's samples use are understood."""
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0] == "curl", command
    method, url, headers, body = "GET", "", {}, None
    options = iter(words[1:])
    for word in options:
        if word == "-X":
            method = next(options)
        elif word == "-H":
            name, _, value = next(options).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            body = json.loads(next(options))
            method = "POST" if method == "GET" else method
        elif word.startswith("http"):
            url = word
        else:
            assert word == "-s", f"an option the samples do not use: {word}"
    return CurlRequest(method, url, urlsplit(url).path, headers, body)


def curl_commands(text: str) -> list[str]:
    """Every `curl -s` command in `text`, in order: from `curl` to the end of its line and
    the lines it continues onto (after a `\\`, or inside an open quote)."""
    found = []
    for match in re.finditer(r"\bcurl -s.*", text):
        command = match.group(0)
        rest = text[match.end() :].splitlines()[1:]
        while command.endswith("\\") or command.count("'") % 2:
            command += "\n" + rest.pop(0)
        found.append(command)
    return found


def send_over_http(sample: CurlRequest) -> tuple[int, Any]:
    """`sample` sent to its URL (a live test server's), as curl would: status, JSON answer."""
    assert sample.url.startswith("http://"), sample.url
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        sample.url,
        method=sample.method,
        headers=sample.headers,
        data=json.dumps(sample.body).encode() if sample.body is not None else None,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return int(refused.code), json.loads(refused.read())


def send(client: Any, sample: CurlRequest) -> Any:
    """`sample` sent through a Django test client, headers and body as the command has them."""
    headers = {k: v for k, v in sample.headers.items() if k.lower() != "content-type"}
    return client.generic(
        sample.method,
        sample.path,
        data=json.dumps(sample.body) if sample.body is not None else "",
        content_type=sample.headers.get("Content-Type", "application/json"),
        headers=headers,
    )
