"""No value forges a log line (the one formatter of every process, and a real server's
output), and the admin's links survive any stored id (real PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.contrib.admin.utils import quote
from django.test import Client

from commitlog.models import ConsumedRecord, OutboxEvent
from config.logs import FORMAT, KeyValueFormatter, quote_value
from controlplane.models import Scope
from controlplane.services.credentials import credential_issue
from controlplane.services.rebalance_groups import OrderGroup
from controlplane.services.rebalancing import rebalance_submit
from tests.processes import ChildProcess, gunicorn, wait_for

FORGED = "ts=2026-12-01 10:00:00,000 level=INFO logger=controlplane event=credential_revoked"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("plain-id:1", "plain-id:1"),
        ("test client", '"test client"'),
        ("a\nb", '"a\\nb"'),
        ('say "x"=1', '"say \\"x\\"=1"'),
        ("w\u202e1", '"w\\u202e1"'),
        ("back\\slash", '"back\\\\slash"'),
        ("", '""'),
    ],
)
def test_values_that_could_split_or_disguise_a_line_are_quoted(value: str, shown: str) -> None:
    assert quote_value(value) == shown


def _formatted(message: str, *args: Any, exc_info: Any = None) -> str:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, message, args, exc_info)
    return KeyValueFormatter(FORMAT).format(record)


def test_a_record_is_one_line_whatever_its_values() -> None:
    text = _formatted("event=request_refused path=%s status=%d", f"/a\n{FORGED}", 404)
    assert "\n" not in text
    assert text.endswith(f'path="/a\\n{FORGED}" status=404')


def test_a_traceback_continues_indented_so_no_line_starts_like_a_record() -> None:
    try:
        raise ValueError(f"boom\n{FORGED}")
    except ValueError:
        import sys

        text = _formatted("event=failed", exc_info=sys.exc_info())
    first, *rest = text.splitlines()
    assert first.startswith("ts=")
    assert rest
    assert all(line.startswith("\t") for line in rest), rest


def test_the_record_keeps_its_own_arguments_for_other_handlers() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a=%s", ("b c",), None)
    KeyValueFormatter(FORMAT).format(record)
    assert record.getMessage() == "a=b c"


@pytest.fixture
def web_server(
    transactional_db: None, celery_broker_url: str
) -> Iterator[tuple[str, ChildProcess]]:
    with gunicorn({"CELERY_BROKER_URL": celery_broker_url}) as served:
        yield served


@pytest.mark.system
def test_a_served_request_cannot_forge_a_log_line(web_server: tuple[str, ChildProcess]) -> None:
    base, server = web_server
    token = credential_issue(name=f"evil\n{FORGED} credential_id=1").token
    path = f"/strategies/x%0A{FORGED.replace(' ', '%20')}/status"
    response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 404
    wait_for(lambda: "event=request_refused" in server.output(), 30, "the refusal's line")
    lines = server.output().splitlines()
    [refused] = [line for line in lines if "event=request_refused" in line]
    assert 'path="/strategies/x\\nts=2026-12-01' in refused
    assert 'credential="evil\\nts=2026-12-01' in refused
    assert not [line for line in lines if line.startswith(FORGED)], lines


@pytest.mark.django_db
def test_admin_pages_link_a_batch_whose_stored_id_holds_a_newline(admin_client: Client) -> None:
    # As stored before ids were checked: the service below the API's checks takes it.
    group = OrderGroup("w\n1", Scope.PER_WORLD, [{"symbol": "A", "qty": 1}])
    [ack] = rebalance_submit(groups=[group]).acks
    row = OutboxEvent.objects.get(aggregate_id=ack.batch_id)
    ConsumedRecord.objects.create(
        key=row.key, event=row.event, record_id=ack.batch_id, value_sha256="0" * 64,
        topic="commit-log", partition=0, offset=0,
    )  # fmt: skip
    batch_page = f"/admin/controlplane/rebalancebatch/{quote(ack.batch_id)}/change/"
    for page in [
        "/admin/commitlog/consumedrecord/",
        f"/admin/commitlog/outboxevent/{row.pk}/change/",
    ]:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        assert batch_page in response.content.decode(), page
    followed = admin_client.get(batch_page)
    assert followed.status_code == 200
    assert ack.batch_id.split(":")[1] in followed.content.decode()
