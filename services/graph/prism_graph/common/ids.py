"""Global ids to database keys: the one rule every resolver and mutation decodes ids by."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from strawberry.relay import GlobalID


def decode_id(node_id: str) -> int:
    """A node id's primary key; -1 (matches nothing) for anything that is not one."""
    text = str(node_id)
    return int(text) if text.isdigit() and len(text) < 19 else -1


def node_pk(value: GlobalID | None, type_name: str) -> int:
    """The primary key a global id of `type_name` names, or -1 (matches nothing) for any other
    id: another type's, a missing one, or one whose node id is not a key."""
    if value is None or value.type_name != type_name:
        return -1
    return decode_id(value.node_id)
