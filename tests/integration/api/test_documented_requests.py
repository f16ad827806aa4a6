"""The curl commands of README.md and docs/API.md, sent as written (with a real token and
the ids the earlier answers gave for their placeholders): each is accepted as it says."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.support.curl import curl_commands, curl_request, send
from tests.support.paths import ROOT

pytestmark = pytest.mark.django_db


def send_all(path: str, token: str) -> list[Any]:
    """Every curl command of the file at `path`, in order; a path's placeholder is the id
    the last answer that named one gave."""
    text = (ROOT / path).read_text()
    placeholders: dict[str, str] = {}
    answers = []
    for command in curl_commands(text):
        sample = curl_request(command.replace("$TOKEN", token))
        for placeholder, value in placeholders.items():
            sample = replace(sample, path=sample.path.replace(placeholder, value))
        answer = send(APIClient(), sample)
        assert answer.status_code in (200, 202), (command, answer.content)
        body = answer.json()
        if "strategy_id" in body:
            placeholders["<strategy_id>"] = body["strategy_id"]
        for batch in body.get("batches", []):
            placeholders[f"{batch['world_id']}:…"] = batch["batch_id"]
        answers.append((sample, body))
    return answers


def test_the_readme_requests_work_and_the_submission_is_not_downgraded(api_token: str) -> None:
    (submit, ack), (status, answer) = send_all("README.md", api_token)
    assert submit.path == "/strategies"
    assert ack["downgraded"] is False
    assert ack["safe_mode"] is False
    assert status.path == f"/strategies/{ack['strategy_id']}/status"
    assert answer["status"] == "accepted"


def test_the_api_docs_curl_requests_work(api_token: str) -> None:
    answers = send_all("docs/API.md", api_token)
    assert [sample.path.split("/")[1] for sample, _ in answers] == ["rebalancing"] * 4
    assert answers[-1][1]["batch_id"] == answers[-2][1]["batches"][0]["batch_id"]
