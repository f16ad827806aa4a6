"""Which staff see what beyond the model pages, where the admin's own per-model
permissions do not reach: being staff is not enough for any of it."""

from __future__ import annotations

from typing import Any

# The dashboard, the overview on the admin's home page and /metrics show the commit log's
# state (outbox backlog, consumer lag, invalid records): for staff who may view the outbox.
OPERATIONS_PERMISSION = "commitlog.view_outboxevent"
# The OpenAPI schema and its browser view describe the control plane's API: for staff
# with any permission on its models.
API_DOCS_APP = "controlplane"


def _active_staff(user: Any) -> bool:
    return bool(
        user is not None and getattr(user, "is_active", False) and getattr(user, "is_staff", False)
    )


def may_see_operations(user: Any) -> bool:
    return _active_staff(user) and bool(user.has_perm(OPERATIONS_PERMISSION))


def may_read_api_docs(user: Any) -> bool:
    return _active_staff(user) and bool(user.has_module_perms(API_DOCS_APP))


# "Try it out" on /api/docs with the admin session (controlplane.api.docs_session): for
# staff who may issue credentials, who could give themselves a token for any call anyway.
TRY_THE_API_PERMISSION = "controlplane.add_apicredential"


def may_try_the_api(user: Any) -> bool:
    return _active_staff(user) and bool(user.has_perm(TRY_THE_API_PERMISSION))
