"""How `prism sync` prints: aligned plain-text tables and fields on stdout, JSON with
`--json`, and a tqdm progress bar on stderr (shown on a terminal only)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tqdm import tqdm

from prism_domain.money import price_text

NONE = "-"


def cell(value: object) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return " ".join(str(value).split())  # one line per row, whatever the message holds


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(headers), *(line(r) for r in cells)])


def fields(pairs: Sequence[tuple[str, object]], indent: str = "") -> str:
    width = max((len(label) for label, _ in pairs), default=0) + 1
    return "\n".join(f"{indent}{(label + ':').ljust(width)} {cell(v)}" for label, v in pairs)


def money(value: Decimal | str | None) -> str | None:
    """A price as the syncer records it (`price_text`): 36 -> 36.00, 0.0125 stays 0.0125."""
    if value is None or value == "":
        return None
    return price_text(Decimal(value))


def when(value: datetime | None) -> str | None:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else None


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"not JSON: {type(value).__name__}")


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=_default))


@contextmanager
def progress_bar(
    description: str, unit: str, *, enabled: bool = True
) -> Iterator[Callable[[int, int], None]]:
    """An `on_progress(done, total)` for the syncer's run functions, drawn with tqdm on
    stderr; tqdm draws nothing when stderr is not a terminal (or when not `enabled`)."""
    bar = tqdm(
        desc=description,
        unit=unit,
        total=None,
        file=sys.stderr,
        disable=None if enabled else True,
        leave=True,
        dynamic_ncols=True,
    )

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
