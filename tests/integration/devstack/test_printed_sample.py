"""The sample request `bin/run` prints with the local operator's token, sent as printed:
accepted, and with the execution domain qmtl's SDK sends, so it is not downgraded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from devstack import local_operator
from tests.support.curl import curl_commands, curl_request, send

pytestmark = pytest.mark.django_db


def test_the_printed_curl_is_accepted_and_not_downgraded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "operator.json"
    base = "http://127.0.0.1:8123"
    assert local_operator.main(["--state-file", str(state), "--base-url", base]) == 0
    (command,) = curl_commands(capsys.readouterr().out)
    sample = curl_request(command)
    assert sample.url == f"{base}/strategies"
    assert sample.headers["Authorization"] == f"Bearer {json.loads(state.read_text())['token']}"

    answer = send(APIClient(), sample)

    assert answer.status_code == 202, answer.content
    assert answer.json()["downgraded"] is False
    assert answer.json()["safe_mode"] is False
