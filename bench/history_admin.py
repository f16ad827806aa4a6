"""The admin pages the history benchmark times beyond the submissions list: every
changelist with each of its filters, the first chunk of each export, and the batch
search by Idempotency-Key (bench.history_paths calls these)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CHANGELISTS = {
    "submissions": "/admin/controlplane/strategysubmission/",
    "batches": "/admin/controlplane/rebalancebatch/",
    "outbox": "/admin/commitlog/outboxevent/",
    "consumed records": "/admin/commitlog/consumedrecord/",
    "invalid records": "/admin/commitlog/invalidrecord/",
    "conflicts": "/admin/commitlog/recordconflict/",
}
EXPORTED = ("submissions", "batches", "outbox")
# A key of the seeded history (bench.history_seed), in the middle of its range.
KEY_SEARCHED = "history-key-500000"


class AdminPages:
    """The URLs to time, by name. Each filter is timed with its first choice that names
    a value; the choice is taken where one is offered first (the seeded database, whose
    latest rows hold values an empty one lacks) and kept, so that both databases time
    the same URLs."""

    def __init__(self, client: Any, user: Any, ok: Callable[[Any], None]) -> None:
        self.client = client
        self.user = user
        self.ok = ok
        self.chosen: dict[str, str] = {}
        self.frozen = False  # the URLs are fixed at the first call

    def _filters(self, name: str, path: str) -> dict[str, str]:
        from django.test import RequestFactory
        from django.urls import resolve

        from config.adminkit.filters import choice_queries

        # The page's own changelist, built as its view builds it (outside a test run the
        # client's responses carry no template context).
        request = RequestFactory().get(path)
        request.user = self.user
        view: Any = resolve(path).func  # the admin's wrapper keeps its ModelAdmin
        changelist = view.model_admin.get_changelist_instance(request)
        for title, queries in choice_queries(changelist).items():
            label = f"{name} list, filter {title}"
            valued = [q for q in queries[1:] if q and q != "?"]
            if not self.frozen and label not in self.chosen and valued:
                self.chosen[label] = f"{path}{valued[0]}"
        return {
            label: url for label, url in self.chosen.items() if label.startswith(f"{name} list,")
        }

    def urls(self) -> dict[str, str]:
        """Every page by name, as of the database the process points at now."""
        found = {}
        for name, path in CHANGELISTS.items():
            found[f"{name} list"] = path
            found |= self._filters(name, path)
        found["batch search by Idempotency-Key"] = f"{CHANGELISTS['batches']}?q={KEY_SEARCHED}"
        self.frozen = True
        return found

    def get(self, url: str) -> None:
        self.ok(self.client.get(url))

    def export_first_chunk(self, name: str) -> None:
        """The header and the first row: the statement of the first chunk, no more."""
        response = self.client.get(f"{CHANGELISTS[name]}export/csv/")
        self.ok(response)
        lines = iter(response.streaming_content)
        next(lines, None)
        next(lines, None)
        response.close()
