"""The admin pages every operator-facing test walks."""

from __future__ import annotations

ADMIN_PAGES = [
    "/admin/",
    "/admin/controlplane/strategysubmission/",
    "/admin/controlplane/rebalancebatch/",
    "/admin/controlplane/apicredential/",
    "/admin/commitlog/outboxevent/",
    "/admin/commitlog/consumedrecord/",
    "/admin/commitlog/invalidrecord/",
    "/admin/commitlog/recordconflict/",
]
