"""No value forges a log line (the one formatter of every process, and a real server's
output), and the admin's links survive any stored id (real PostgreSQL)."""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote
from django.test import Client

from commitlog.models import ConsumedRecord, OutboxEvent
from controlplane.domain.orders import OrderGroup, RebalanceRequest
from controlplane.domain.scopes import Scope
from controlplane.services.rebalancing import rebalance_submit


@pytest.mark.django_db
def test_admin_pages_link_a_batch_whose_stored_id_holds_a_newline(admin_client: Client) -> None:
    # As stored before ids were checked: the service below the API's checks takes it.
    group = OrderGroup("w\n1", Scope.PER_WORLD, [{"symbol": "A", "qty": 1}])
    [ack] = rebalance_submit(request=RebalanceRequest(groups=(group,))).batches
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
