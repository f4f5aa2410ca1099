"""PATCH bodies: a JSON array of ``{"op", "path", "value"}`` (docs/connectwise.md §3).

Paths are top-level field names, case-sensitive; a reference is replaced whole
(``path="product"``, ``value={"id": 5}``), never by a path into it, which the Developer
Guide warns can answer a false 200.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

Op = Literal["add", "replace", "remove"]
PatchOp = dict[str, Any]


def op(kind: Op, path: str, value: Any = None) -> PatchOp:
    if "/" in path.strip("/"):
        raise ValueError(f"patch a whole field, not a path inside it: {path!r}")
    out: PatchOp = {"op": kind, "path": path.strip("/")}
    if kind != "remove":
        out["value"] = value
    return out


def replace(path: str, value: Any) -> PatchOp:
    return op("replace", path, value)


def remove(path: str) -> PatchOp:
    return op("remove", path)


def replacing(model: BaseModel) -> list[PatchOp]:
    """One ``replace`` per field set on ``model``, by its wire name (id excluded)."""
    data = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return [replace(k, v) for k, v in data.items() if k not in ("id", "_info")]
