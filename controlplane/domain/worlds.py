"""A request's world ids, cleaned once: the type says a list has been through here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NewType

from controlplane.domain import widths
from controlplane.domain.identifiers import check_canonical, check_identifier
from controlplane.domain.request_caps import Caps, cap_world_ids
from controlplane.errors import WorldIdsRequired

WorldIds = NewType("WorldIds", tuple[str, ...])


def normalize_world_ids(world_ids: Iterable[str], *, caps: Caps) -> WorldIds:
    """Stripped ids, blanks dropped, duplicates removed keeping first-seen order."""
    world_ids = list(world_ids)
    cap_world_ids(caps, world_ids)
    unique: dict[str, None] = {}
    for index, raw in enumerate(world_ids):
        check_identifier(raw, f"world_ids[{index}]")
        world_id = raw.strip()
        if not world_id:
            continue
        check_canonical(world_id, f"world_ids[{index}]")
        if len(world_id) > widths.WORLD_ID:
            raise WorldIdsRequired(f"world id longer than {widths.WORLD_ID} characters")
        unique.setdefault(world_id, None)
    if not unique:
        raise WorldIdsRequired("world_ids must contain at least one non-blank world id")
    return WorldIds(tuple(unique))
