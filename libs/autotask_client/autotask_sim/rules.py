"""The business rules of the entities: what a write must satisfy, and what it causes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from . import errors as E
from .config import SimConfig
from .dates import ONE_DAY, add_months, day_of, parse_any, wire, wire_date
from .metadata import (
    ADJUSTMENTS,
    BILLING_CODES,
    COMPANIES,
    CONTRACT_SERVICES,
    CONTRACT_STATUS_ACTIVE,
    CONTRACT_TYPE_RECURRING,
    CONTRACTS,
    SERVICES,
    UNITS,
    UPDATABLE,
    USE_TYPE_RECURRING,
    FieldMeta,
    fields_of,
)
from .store import Record, Store

# First ids per entity, so ids look like Autotask's and never collide across entities.
ID_START = {
    COMPANIES: 174,
    CONTRACTS: 29683001,
    SERVICES: 29683401,
    CONTRACT_SERVICES: 29684001,
    ADJUSTMENTS: 29685001,
    UNITS: 29686001,
    BILLING_CODES: 29682801,
}
# Months per billing period by the Service's periodType picklist (simulator's codes).
PERIOD_MONTHS = {1: 1, 2: 3, 3: 6, 4: 12}
ENTITIES_WITH_UDFS = {COMPANIES, CONTRACTS, SERVICES}


class Rules:
    def __init__(self, store: Store, config: SimConfig) -> None:
        self.store = store
        self.config = config

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.config.clock(), UTC)

    def metas(self, entity: str) -> dict[str, FieldMeta]:
        return {f.name.lower(): f for f in fields_of(entity, self.config.service_name_length)}

    # -- shaping --------------------------------------------------------------------------

    def blank(self, entity: str) -> Record:
        record: Record = {f.name: None for f in fields_of(entity)}
        if entity in ENTITIES_WITH_UDFS:
            record["userDefinedFields"] = []
        return record

    def coerce(self, entity: str, body: dict[str, Any], *, for_update: bool) -> Record:
        """Body fields by their canonical names, typed; read-only and unknown ones dropped."""
        metas = self.metas(entity)
        out: Record = {}
        for key, value in body.items():
            if key.lower() == "userdefinedfields" and entity in ENTITIES_WITH_UDFS:
                out["userDefinedFields"] = value
                continue
            meta = metas.get(key.lower())
            if meta is None or meta.name == "id":
                continue
            if meta.read_only:
                continue
            if for_update and entity in UPDATABLE and meta.name not in UPDATABLE[entity]:
                continue
            out[meta.name] = self._typed(meta, value)
        return out

    def _typed(self, meta: FieldMeta, value: Any) -> Any:
        if value is None:
            return None
        kind = meta.data_type
        try:
            if kind in ("integer", "long"):
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise ValueError
                return int(value)
            if kind == "double":
                if isinstance(value, bool):
                    raise ValueError
                return float(value)
            if kind == "boolean":
                if not isinstance(value, bool):
                    raise ValueError
                return value
            if kind == "datetime":
                return wire(parse_any(str(value)))
            return str(value)
        except (TypeError, ValueError):
            raise E.failure(E.BAD_VALUE.format(field=meta.name, type=kind)) from None

    def check_fields(self, entity: str, record: Record) -> None:
        """Required fields, lengths, picklist values and references of a whole record."""
        problems: list[str] = []
        for meta in self.metas(entity).values():
            value = record.get(meta.name)
            if meta.required and value in (None, ""):
                problems.append(E.REQUIRED_MISSING.format(field=meta.name))
                continue
            if value is None:
                continue
            if meta.data_type == "string" and meta.length and len(str(value)) > meta.length:
                problems.append(E.TOO_LONG.format(field=meta.name, length=meta.length))
            if meta.picklist and int(value) not in {v for v, _ in meta.picklist}:
                problems.append(E.BAD_REFERENCE.format(field=meta.name))
            if meta.reference and self.store.get(meta.reference, int(value)) is None:
                problems.append(E.BAD_REFERENCE.format(field=meta.name))
        if problems:
            raise E.failure(*problems)

    # -- writes ---------------------------------------------------------------------------

    def create(self, entity: str, body: dict[str, Any], *, parent_id: int | None = None) -> int:
        with self.store.transaction():
            record = self.blank(entity)
            record.update(self.coerce(entity, body, for_update=False))
            if entity == CONTRACT_SERVICES and parent_id is not None:
                record["contractID"] = parent_id
            if entity == ADJUSTMENTS:
                if parent_id is not None:
                    record["contractID"] = parent_id
                return self.create_adjustment(record)
            self._defaults(entity, record)
            self.check_fields(entity, record)
            self._entity_rules(entity, record, existing=None)
            record["id"] = self.store.next_id(entity, ID_START[entity])
            self.store.put(entity, record)
            return int(record["id"])

    def update(
        self, entity: str, body: dict[str, Any], *, replace: bool, parent_id: int | None = None
    ) -> int:
        raw_id = next((v for k, v in body.items() if k.lower() == "id"), None)
        if raw_id is None:
            raise E.failure(E.ID_REQUIRED)
        with self.store.transaction():
            existing = self.store.get(entity, int(raw_id))
            if existing is None or (
                parent_id is not None and existing.get("contractID") != parent_id
            ):
                raise E.failure(E.NO_MATCHING_RECORDS)
            changes = self.coerce(entity, body, for_update=True)
            if replace:
                record = self.blank(entity)
                fixed = UPDATABLE.get(entity)
                for meta in self.metas(entity).values():
                    if meta.read_only or (fixed is not None and meta.name not in fixed):
                        record[meta.name] = existing.get(meta.name)
                record.update(changes)
            else:
                record = {**existing, **changes}
            record["id"] = existing["id"]
            self.check_fields(entity, record)
            self._entity_rules(entity, record, existing=existing)
            self._touch(entity, record)
            self.store.put(entity, record)
            if entity == CONTRACT_SERVICES:
                self.recompute_units(int(record["id"]))
            return int(record["id"])

    def _defaults(self, entity: str, record: Record) -> None:
        stamp = wire(self.now())
        if entity == SERVICES:
            if record.get("isActive") is None:
                record["isActive"] = True  # DOC: new services are active by default
            record["createDate"] = stamp
            record["lastModifiedDate"] = stamp
            record["markupRate"] = _markup(record)
        elif entity == COMPANIES:
            if record.get("isActive") is None:
                record["isActive"] = True
            record["createDate"] = stamp
            record["lastTrackedModifiedDateTime"] = stamp
        elif entity == CONTRACTS:
            record["lastModifiedDateTime"] = stamp
        elif entity == CONTRACT_SERVICES:
            service = self.store.get(SERVICES, int(record.get("serviceID") or 0))
            if service is not None:
                for name in ("unitPrice", "unitCost", "invoiceDescription"):
                    if record.get(name) is None:
                        record[name] = service.get(name)

    def _touch(self, entity: str, record: Record) -> None:
        stamp = wire(self.now())
        if entity == SERVICES:
            record["lastModifiedDate"] = stamp
            record["markupRate"] = _markup(record)
        elif entity == CONTRACTS:
            record["lastModifiedDateTime"] = stamp
        elif entity == COMPANIES:
            record["lastTrackedModifiedDateTime"] = stamp

    def _entity_rules(self, entity: str, record: Record, *, existing: Record | None) -> None:
        if entity == SERVICES:
            self._service_rules(record, existing)
        elif entity == CONTRACT_SERVICES and existing is None:
            contract = self.store.get(CONTRACTS, int(record["contractID"]))
            assert contract is not None  # checked as a reference
            if contract.get("contractType") != CONTRACT_TYPE_RECURRING:
                raise E.failure(E.NOT_RECURRING.format(entity="ContractService"))
            for other in self.store.all(CONTRACT_SERVICES):
                if (
                    other["contractID"] == record["contractID"]
                    and other["serviceID"] == record["serviceID"]
                ):
                    raise E.failure(E.SERVICE_ALREADY_ON_CONTRACT)
        elif entity == CONTRACTS:
            start, end = record.get("startDate"), record.get("endDate")
            if start and end and day_of(end) < day_of(start):
                raise E.failure(E.BAD_VALUE.format(field="endDate", type="a date after startDate"))

    def _service_rules(self, record: Record, existing: Record | None) -> None:
        name = str(record.get("name") or "")
        key = name.strip().lower()
        for other in self.store.all(SERVICES):
            if (
                other["id"] != record.get("id")
                and str(other.get("name") or "").strip().lower() == key
            ):
                which = "new" if existing is None else "existing"
                raise E.failure(E.DUPLICATE_SERVICE.format(name=name, which=which))
        code_id = record.get("billingCodeID")
        if existing is not None and existing.get("billingCodeID") == code_id:
            return  # DOC: a service may keep a billing code that has since become inactive
        code = self.store.get(BILLING_CODES, int(code_id or 0))
        if code is None or not code.get("isActive") or code.get("useType") != USE_TYPE_RECURRING:
            raise E.failure(E.BILLING_CODE_NOT_RECURRING)

    # -- contract services, adjustments and units -------------------------------------------

    def create_adjustment(self, record: Record) -> int:
        problems = [
            E.REQUIRED_MISSING.format(field=f)
            for f in ("contractID", "effectiveDate", "unitChange")
            if record.get(f) is None
        ]
        if record.get("serviceID") is None and record.get("contractServiceID") is None:
            problems.append(E.REQUIRED_MISSING.format(field="serviceID"))
        if problems:
            raise E.failure(*problems)
        contract = self.store.get(CONTRACTS, int(record["contractID"]))
        if contract is None:
            raise E.failure(E.BAD_REFERENCE.format(field="contractID"))
        if contract.get("contractType") != CONTRACT_TYPE_RECURRING:
            raise E.failure(E.NOT_RECURRING.format(entity="ContractServiceAdjustment"))
        if contract.get("status") != CONTRACT_STATUS_ACTIVE:
            raise E.failure(E.CONTRACT_NOT_ACTIVE)
        effective = day_of(record["effectiveDate"])
        if not day_of(contract["startDate"]) <= effective <= day_of(contract["endDate"]):
            raise E.failure(E.EFFECTIVE_DATE_OUTSIDE)
        record["effectiveDate"] = wire_date(effective)

        cs = self._contract_service_for(record)
        record["contractServiceID"] = cs["id"]
        record["serviceID"] = cs["serviceID"]
        record["id"] = self.store.next_id(ADJUSTMENTS, ID_START[ADJUSTMENTS])
        self.store.put(ADJUSTMENTS, record)
        self.recompute_units(int(cs["id"]))
        self.check_units_not_negative(int(cs["id"]))
        return int(record["id"])

    def _contract_service_for(self, adj: Record) -> Record:
        contract_id = int(adj["contractID"])
        if adj.get("contractServiceID") is not None:
            cs = self.store.get(CONTRACT_SERVICES, int(adj["contractServiceID"]))
            if cs is None or cs["contractID"] != contract_id:
                raise E.failure(E.BAD_REFERENCE.format(field="contractServiceID"))
            return cs
        service_id = int(adj["serviceID"])
        for cs in self.store.all(CONTRACT_SERVICES):
            if cs["contractID"] == contract_id and cs["serviceID"] == service_id:
                return cs
        if self.store.get(SERVICES, service_id) is None:
            raise E.failure(E.BAD_REFERENCE.format(field="serviceID"))
        # DOC: an adjustment for a service not yet on the contract adds it.
        body = {"serviceID": service_id}
        if adj.get("adjustedUnitPrice") is not None:
            body["unitPrice"] = adj["adjustedUnitPrice"]
        if adj.get("adjustedUnitCost") is not None:
            body["unitCost"] = adj["adjustedUnitCost"]
        new_id = self.create(CONTRACT_SERVICES, body, parent_id=contract_id)
        cs = self.store.get(CONTRACT_SERVICES, new_id)
        assert cs is not None
        return cs

    def recompute_units(self, contract_service_id: int) -> None:
        """Rebuild the per-period unit rows of one contract service from its adjustments.

        One row per billing period; an adjustment inside a period ends the row the day
        before its effective date and starts a new one (DOC ContractServiceUnitsEntity.htm).
        ``price``/``cost`` are per unit, from the latest adjustment that set them, else the
        contract service's. Ids of rows that keep their start date are kept.
        """
        cs = self.store.get(CONTRACT_SERVICES, contract_service_id)
        existing = [
            u for u in self.store.all(UNITS) if u["contractServiceID"] == contract_service_id
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
                for a in self.store.all(ADJUSTMENTS)
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
            for i, seg_start in enumerate(cuts):
                seg_end = cuts[i + 1] - ONE_DAY if i + 1 < len(cuts) else p_end
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

    def check_units_not_negative(self, contract_service_id: int) -> None:
        if self.config.allow_negative_units:
            return
        for u in self.store.all(UNITS):
            if u["contractServiceID"] == contract_service_id and int(u["units"]) < 0:
                raise E.failure(E.UNITS_BELOW_ZERO)


def _markup(record: Record) -> float | None:
    price, cost = record.get("unitPrice"), record.get("unitCost")
    if price is None or not cost:
        return None
    return round((float(price) - float(cost)) / float(cost) * 100, 4)
