"""The PSA's units of one contract service as read, and the order adjustments are written in.

Pure: the syncer applies with them, and a preview computes with them what it would apply.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from prism_psa.invoices.planning import Adjustment
from prism_psa.port import ContractPort, UnitRow


class UnitHistory:
    """The PSA's units of one contract service, from its unit rows (None: not on contract).

    The units in force on a day are those of the row with the latest start on or before it
    (and not ended before it): Autotask documents that a row ends *at* the next adjustment's
    effective date, so on a change day two rows cover the day and the newer one counts.
    """

    def __init__(self, contract_service_id: int | None, rows: Iterable[UnitRow]) -> None:
        self.contract_service_id = contract_service_id
        self.rows = sorted(rows, key=lambda r: r.start)
        self._starts = [r.start for r in self.rows]

    def units_on(self, day: date) -> int | None:
        if self.contract_service_id is None:
            return None
        row = self.row_on(day)
        return row.units if row is not None else 0

    def row_on(self, day: date) -> UnitRow | None:
        """The row in force on `day` (units, price and cost the PSA bills it at), if any."""
        i = bisect_right(self._starts, day)
        if self.contract_service_id is None or i == 0:
            return None
        row = self.rows[i - 1]
        return row if day <= row.end else None

    def change_dates(self, start: date, end: date) -> list[date]:
        """Days in [start, end] on which the units may change: row starts, and the day after a
        row that no other row follows at once."""
        days = {r.start for r in self.rows} | {r.end + timedelta(days=1) for r in self.rows}
        return sorted(d for d in days if start <= d <= end)


def ordered_for_writing(adjustments: list[Adjustment]) -> list[Adjustment]:
    """Increases first: applied one by one, the units never dip below zero on any day."""
    return [a for a in adjustments if a.unit_change > 0] + [
        a for a in adjustments if a.unit_change < 0
    ]


@dataclass(frozen=True)
class Reading:
    """One contract service to read: its contract and service, and the days needed."""

    contract_id: int
    service_id: int
    start: date
    until: date


def read_histories(psa: ContractPort, wanted: Sequence[Reading]) -> list[UnitHistory]:
    """The unit histories of `wanted`, in its order, in two batched reads whatever its size
    (N3): the contracts' services, then the unit rows of those that are on their contract."""
    if not wanted:
        return []
    contract_ids = {w.contract_id for w in wanted}
    on_contract = {
        (cs.contract_id, cs.service_id): cs.id for cs in psa.contract_services(contract_ids)
    }
    present = {w.contract_id for w in wanted if (w.contract_id, w.service_id) in on_contract}
    rows: dict[int, list[UnitRow]] = defaultdict(list)
    if present:
        start = min(w.start for w in wanted)
        end = max(w.until for w in wanted)
        for row in psa.unit_rows(present, start, end):
            rows[row.contract_service_id].append(row)
    histories = []
    for w in wanted:
        cs_id = on_contract.get((w.contract_id, w.service_id))
        histories.append(UnitHistory(cs_id, rows.get(cs_id, []) if cs_id else []))
    return histories
