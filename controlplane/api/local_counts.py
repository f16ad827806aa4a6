"""The throttle's counts in this process alone, for when the shared counters (Redis) do not
answer (controlplane.api.throttling): the same windows, each key's count (a credential's
calls, an address's failed authentications) kept only for the current window of its rate."""

from __future__ import annotations

import threading


class LocalCounts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window, count)

    def count(self, key: str, window: int, *, add: bool = True) -> int:
        """This call's number in `window` for `key`; with add=False, the number counted so
        far, counting nothing."""
        with self._lock:
            seen, count = self._counts.get(key, (window, 0))
            count = count if seen == window else 0
            if not add:
                return count
            count += 1
            self._counts[key] = (window, count)
            if len(self._counts) > 10_000:  # past windows of keys gone quiet
                self._counts = {k: v for k, v in self._counts.items() if v[0] >= window}
            return count
