from __future__ import annotations


def decode_id(node_id: str) -> int:
    """A node id's primary key; -1 (matches nothing) for anything that is not one."""
    text = str(node_id)
    return int(text) if text.isdigit() and len(text) < 19 else -1
