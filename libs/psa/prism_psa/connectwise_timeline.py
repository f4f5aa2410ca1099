"""A product's units on a ConnectWise agreement, from its additions (issue 17).

Pure: ConnectWise bills each addition from its effective day to the day before its cancelled
date, and the additions of one product in effect on a day add up. `merged` turns them into
the contiguous, non-overlapping segments the port's unit rows are (`UnitHistory.row_on`: the
latest-starting row wins, rows do not add up).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connectwise_client import Addition


def money(value: Decimal | None) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


@dataclass(frozen=True, slots=True)
class AdditionLine:
    """One addition as the timeline needs it: in effect from `start` to the day before
    `stop` (None: runs on)."""

    id: int
    product_id: int
    quantity: int
    start: date
    stop: date | None
    unit_price: Decimal | None
    unit_cost: Decimal | None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.stop is None or day < self.stop)


def line_of(raw: Addition) -> AdditionLine | None:
    if raw.id is None or raw.product is None or raw.product.id is None:
        return None
    if raw.effective_date is None:
        return None
    return AdditionLine(
        id=int(raw.id),
        product_id=int(raw.product.id),
        quantity=int(raw.quantity or 0),
        start=raw.effective_date,
        stop=raw.cancelled_date,
        unit_price=money(raw.unit_price),
        unit_cost=money(raw.unit_cost),
    )


@dataclass(frozen=True, slots=True)
class Segment:
    start: date
    #: The last day (inclusive); None: runs on.
    end: date | None
    units: int
    unit_price: Decimal | None
    unit_cost: Decimal | None


def merged(lines: Iterable[AdditionLine], since: date | None = None) -> list[Segment]:
    """The product's units day by day (from `since`), as contiguous segments: on each day
    the quantities of the additions in effect add up; price and cost are those of the
    latest addition in effect. Days without units are left out."""
    lines = [ln for ln in lines if ln.stop is None or ln.stop > ln.start]
    if since is not None:
        lines = [ln for ln in lines if ln.stop is None or ln.stop > since]
    bounds = {ln.start for ln in lines} | {ln.stop for ln in lines if ln.stop is not None}
    if since is not None:
        bounds = {b for b in bounds if b > since} | {since}
    days = sorted(bounds)
    out: list[Segment] = []
    for i, first in enumerate(days):
        nxt = days[i + 1] if i + 1 < len(days) else None
        live = [ln for ln in lines if ln.covers(first)]
        units = sum(ln.quantity for ln in live)
        if not live or units == 0:
            continue
        latest = max((ln for ln in live if ln.quantity), key=lambda ln: (ln.start, ln.id))
        end = nxt - timedelta(days=1) if nxt is not None else None
        segment = Segment(first, end, units, latest.unit_price, latest.unit_cost)
        last = out[-1] if out else None
        if (
            last is not None
            and last.end is not None
            and last.end + timedelta(days=1) == first
            and (last.units, last.unit_price, last.unit_cost)
            == (units, latest.unit_price, latest.unit_cost)
        ):
            out[-1] = Segment(last.start, end, units, last.unit_price, last.unit_cost)
        else:
            out.append(segment)
    return out
