"""The sample request `bin/run` prints with the local operator's token, sent as printed:
accepted, and with the execution domain qmtl's SDK sends, so it is not downgraded."""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from devstack.local_operator import local_operator_ensure, usage
from tests.support.curl import curl_commands, curl_request, send

pytestmark = pytest.mark.django_db


def test_the_printed_curl_is_accepted_and_not_downgraded(tmp_path: Path) -> None:
    operator = local_operator_ensure(state_file=tmp_path / "operator.json")
    printed = usage("http://127.0.0.1:8000", operator)
    (command,) = curl_commands(printed)
    sample = curl_request(command)
    assert sample.headers["Authorization"] == f"Bearer {operator.token}"

    answer = send(APIClient(), sample)

    assert answer.status_code == 202, answer.content
    assert answer.json()["downgraded"] is False
    assert answer.json()["safe_mode"] is False
