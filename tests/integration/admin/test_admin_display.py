"""Stored text shown to an operator on every admin page and the dashboard: control and
bidirectional characters written into the tables directly (as rows stored before the
API refused them) are shown as their escapes (`\\u202e`), in cells, tooltips, detail
pages, filters and the dashboard's tables and charts."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from commitlog.models import (
    ConsumedRecord,
    ConsumerPosition,
    InvalidRecord,
    OutboxEvent,
    RecordConflict,
)
from controlplane.models import ApiCredential, RebalanceBatch, StrategySubmission
from tests.support.admin_pages import ADMIN_PAGES
from tests.support.bodies import make_dag, submission_body
from tests.support.forms import shown_text
from tests.support.layout import RAW_UNSAFE

pytestmark = pytest.mark.django_db

# A right-to-left override, an isolate, a terminal escape and a bell.
SPOOF = "fx\u202elive\u2066x\x1b[2J\x07"
SHOWN = "fx\\u202elive\\u2066x\\u001b[2J\\u0007"


def _spoofed_rows(api: APIClient) -> list[str]:
    """One row of each kind holding SPOOF in its ids and texts; their detail pages."""
    body = submission_body(make_dag("spoof"), meta={"note": SPOOF})
    strategy_id = api.post("/strategies", body, format="json").json()["strategy_id"]
    api.post(
        "/rebalancing/batches",
        {"world_id": "w1", "scope": "per_world", "orders": [{"symbol": "A", "qty": 1}]},
        format="json",
    )
    StrategySubmission.objects.filter(pk=strategy_id).update(
        world_ids=[SPOOF], world_id=SPOOF, execution_domain=SPOOF
    )
    batch = RebalanceBatch.objects.get()
    RebalanceBatch.objects.filter(pk=batch.pk).update(world_id=SPOOF, mode=SPOOF)
    row = OutboxEvent.objects.get(aggregate_id=strategy_id)
    OutboxEvent.objects.filter(pk=row.pk).update(last_error=SPOOF)
    common = {"topic": SPOOF, "partition": 0, "offset": 7}
    consumed = ConsumedRecord.objects.create(
        key=f"ingest:{SPOOF}", event="gateway.ingest", record_id=SPOOF, value_sha256="a" * 64,
        **common,
    )  # fmt: skip
    invalid = InvalidRecord.objects.create(key=SPOOF.encode(), value=b"{", error=SPOOF, **common)
    conflict = RecordConflict.objects.create(
        key=f"ingest:{SPOOF}", event="gateway.ingest", record_id=SPOOF, reason=SPOOF,
        value=b"{}", value_sha256="b" * 64, **common,
    )  # fmt: skip
    ConsumerPosition.objects.create(group=SPOOF, topic=SPOOF, partition=0, committed_offset=1,
                                    end_offset=3)  # fmt: skip
    credential = ApiCredential.objects.create(
        name=SPOOF, key_prefix="cp_spoof", key_hash="1" * 64, allowed_worlds=[SPOOF]
    )
    admin = "/admin/{}/{}/{}/change/"
    return [
        admin.format("controlplane", "strategysubmission", strategy_id),
        admin.format("controlplane", "rebalancebatch", batch.pk),
        admin.format("commitlog", "outboxevent", row.pk),
        admin.format("commitlog", "consumedrecord", consumed.pk),
        admin.format("commitlog", "invalidrecord", invalid.pk),
        admin.format("commitlog", "recordconflict", conflict.pk),
        admin.format("controlplane", "apicredential", credential.pk),
    ]


def test_stored_control_and_bidi_characters_are_shown_escaped_on_every_page(
    admin_client: Client, api: APIClient
) -> None:
    details = _spoofed_rows(api)
    pages = [*ADMIN_PAGES, "/admin/dashboard/", *details]
    raw: dict[str, list[str]] = {}
    unescaped: list[str] = []
    for path in pages:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        found = sorted({repr(m.group()) for m in RAW_UNSAFE.finditer(shown_text(html))})
        if found:
            raw[path] = found
        if "\\u202e" not in html:
            unescaped.append(path)
    assert raw == {}
    assert unescaped == []
    submissions = admin_client.get("/admin/controlplane/strategysubmission/").content.decode()
    assert SHOWN in submissions  # the whole value, in the cell's tooltip at least
