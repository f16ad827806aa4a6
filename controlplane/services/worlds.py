from __future__ import annotations

from collections.abc import Iterable

from controlplane.exceptions import WorldIdsRequired

MAX_WORLD_ID_LENGTH = 200


def normalize_world_ids(world_ids: Iterable[str]) -> list[str]:
    """Stripped ids, blanks dropped, duplicates removed keeping first-seen order."""
    unique: dict[str, None] = {}
    for raw in world_ids:
        world_id = raw.strip()
        if not world_id:
            continue
        if len(world_id) > MAX_WORLD_ID_LENGTH:
            raise WorldIdsRequired(f"world id longer than {MAX_WORLD_ID_LENGTH} characters")
        unique.setdefault(world_id, None)
    if not unique:
        raise WorldIdsRequired("world_ids must contain at least one non-blank world id")
    return list(unique)
