from __future__ import annotations

from collections.abc import Iterable

from controlplane.domain.identifiers import check_identifier
from controlplane.domain.request_caps import cap_world_ids
from controlplane.errors import WorldIdsRequired

MAX_WORLD_ID_LENGTH = 200


def normalize_world_ids(world_ids: Iterable[str]) -> list[str]:
    """Stripped ids, blanks dropped, duplicates removed keeping first-seen order."""
    world_ids = list(world_ids)
    cap_world_ids(world_ids)
    unique: dict[str, None] = {}
    for index, raw in enumerate(world_ids):
        check_identifier(raw, f"world_ids[{index}]")
        world_id = raw.strip()
        if not world_id:
            continue
        if len(world_id) > MAX_WORLD_ID_LENGTH:
            raise WorldIdsRequired(f"world id longer than {MAX_WORLD_ID_LENGTH} characters")
        unique.setdefault(world_id, None)
    if not unique:
        raise WorldIdsRequired("world_ids must contain at least one non-blank world id")
    return list(unique)
