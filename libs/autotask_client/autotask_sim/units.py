"""ContractServiceUnits: the per-period unit rows Autotask derives from adjustments."""

from __future__ import annotations

from datetime import date

from . import errors as E
from .config import SimConfig
from .dates import ONE_DAY, add_months, day_of, wire_date
from .metadata import ADJUSTMENTS, CONTRACT_SERVICES, CONTRACTS, ID_START, SERVICES, UNITS
from .store import Record, Store

# Months per billing period by the Service's periodType picklist (simulator's codes).
PERIOD_MONTHS = {1: 1, 2: 3, 3: 6, 4: 12}


class UnitRows:
    def __init__(self, store: Store, config: SimConfig) -> None:
        self.store = store
        self.config = config

    def recompute(self, contract_service_id: int) -> None:
        """Rebuild the per-period unit rows of one contract service from its adjustments.

        One row per billing period; an adjustment inside a period ends the row and starts a
        new one on its effective date (DOC ContractServiceUnitsEntity.htm). The old row ends
        the day before (`unit_row_end="day_before"`) or on that day, as the documentation
        words it (`"at_next"`): which one real Autotask shows is unconfirmed.
        ``price``/``cost`` are per unit, from the latest adjustment that set them, else the
        contract service's. Ids of rows that keep their start date are kept.
        """
        cs = self.store.get(CONTRACT_SERVICES, contract_service_id)
        existing = [
            u
            for u in self.store.where(UNITS, "contractServiceID", [contract_service_id])
            if u["contractServiceID"] == contract_service_id
        ]
        if cs is None:
            for u in existing:
                self.store.delete(UNITS, u["id"])
            return
        contract = self.store.get(CONTRACTS, int(cs["contractID"]))
        service = self.store.get(SERVICES, int(cs["serviceID"])) or {}
        adjustments = sorted(
            (
                a
                for a in self.store.where(ADJUSTMENTS, "contractServiceID", [contract_service_id])
                if a["contractServiceID"] == contract_service_id
            ),
            key=lambda a: (a["effectiveDate"], a["id"]),
        )
        rows: list[Record] = []
        if contract is not None and adjustments:
            rows = self._unit_rows(cs, contract, service, adjustments)
        by_start = {u["startDate"]: u for u in existing}
        keep: set[int] = set()
        for row in rows:
            old = by_start.get(row["startDate"])
            if old is not None:
                row["id"] = old["id"]
                row["approveAndPostDate"] = old.get("approveAndPostDate")
            else:
                row["id"] = self.store.next_id(UNITS, ID_START[UNITS])
            keep.add(int(row["id"]))
            self.store.put(UNITS, row)
        for u in existing:
            if int(u["id"]) not in keep:
                self.store.delete(UNITS, u["id"])

    def _unit_rows(
        self, cs: Record, contract: Record, service: Record, adjustments: list[Record]
    ) -> list[Record]:
        months = PERIOD_MONTHS.get(int(service.get("periodType") or 1), 1)
        start, end = day_of(contract["startDate"]), day_of(contract["endDate"])
        first = day_of(adjustments[0]["effectiveDate"])
        effective = sorted({day_of(a["effectiveDate"]) for a in adjustments})
        rows: list[Record] = []
        k = 0
        while True:
            p_start = add_months(start, k * months)
            p_end = min(add_months(start, (k + 1) * months) - ONE_DAY, end)
            k += 1
            if p_start > end:
                break
            if p_end < first:
                continue
            cuts = [p_start] + [d for d in effective if p_start < d <= p_end]
            overlap = ONE_DAY if self.config.unit_row_end == "day_before" else ONE_DAY * 0
            for i, seg_start in enumerate(cuts):
                seg_end = cuts[i + 1] - overlap if i + 1 < len(cuts) else p_end
                rows.append(self._row(cs, service, adjustments, seg_start, seg_end))
        return rows

    def _row(
        self, cs: Record, service: Record, adjustments: list[Record], start: date, end: date
    ) -> Record:
        applied = [a for a in adjustments if day_of(a["effectiveDate"]) <= start]
        units = sum(int(a["unitChange"]) for a in applied)
        price, cost = cs.get("unitPrice"), cs.get("unitCost")
        if cs.get("adjustedPrice") is not None:
            price = cs["adjustedPrice"]
        for a in applied:
            if a.get("adjustedUnitPrice") is not None:
                price = a["adjustedUnitPrice"]
            if a.get("adjustedUnitCost") is not None:
                cost = a["adjustedUnitCost"]
        return {
            "id": None,
            "approveAndPostDate": None,
            "contractID": cs["contractID"],
            "contractServiceID": cs["id"],
            "cost": cost,
            "endDate": wire_date(end),
            "internalCurrencyPrice": price,
            "organizationalLevelAssociationID": None,
            "price": price,
            "serviceID": cs["serviceID"],
            "startDate": wire_date(start),
            "units": units,
            "vendorCompanyID": service.get("vendorCompanyID"),
        }

    def check_not_negative(self, contract_service_id: int) -> None:
        if self.config.allow_negative_units:
            return
        for u in self.store.where(UNITS, "contractServiceID", [contract_service_id]):
            if u["contractServiceID"] == contract_service_id and int(u["units"]) < 0:
                raise E.failure(E.UNITS_BELOW_ZERO)
