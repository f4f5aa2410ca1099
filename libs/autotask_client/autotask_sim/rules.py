"""The business rules of the entities: what a write must satisfy, and what it causes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import errors as E
from .config import SimConfig
from .dates import day_in, day_of, parse_any, wire, wire_date
from .metadata import (
    ADJUSTMENTS,
    BILLING_CODES,
    COMPANIES,
    CONTRACT_SERVICES,
    CONTRACT_STATUS_ACTIVE,
    CONTRACT_TYPE_RECURRING,
    CONTRACTS,
    DAY_FIELDS,
    ID_START,
    SERVICES,
    UPDATABLE,
    USE_TYPE_RECURRING,
    FieldMeta,
    fields_of,
)
from .store import Record, Store
from .units import UnitRows

ENTITIES_WITH_UDFS = {COMPANIES, CONTRACTS, SERVICES}


class Rules:
    def __init__(self, store: Store, config: SimConfig) -> None:
        self.store = store
        self.config = config
        self.units = UnitRows(store, config)

    def recompute_units(self, contract_service_id: int) -> None:
        self.units.recompute(contract_service_id)

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
            if (entity, meta.name) in DAY_FIELDS:
                out[meta.name] = self._day(meta, value)
            else:
                out[meta.name] = self._typed(meta, value)
        return out

    def _day(self, meta: FieldMeta, value: Any) -> Any:
        """A day field: the date the value falls on in the instance's zone, kept as midnight."""
        if value is None:
            return None
        try:
            return wire_date(day_in(str(value), self.config.instance_time_zone))
        except ValueError:
            raise E.failure(E.BAD_VALUE.format(field=meta.name, type=meta.data_type)) from None

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
            for other in self.store.where(CONTRACT_SERVICES, "contractID", [record["contractID"]]):
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
        self.units.recompute(int(cs["id"]))
        self.units.check_not_negative(int(cs["id"]))
        return int(record["id"])

    def _contract_service_for(self, adj: Record) -> Record:
        contract_id = int(adj["contractID"])
        if adj.get("contractServiceID") is not None:
            cs = self.store.get(CONTRACT_SERVICES, int(adj["contractServiceID"]))
            if cs is None or cs["contractID"] != contract_id:
                raise E.failure(E.BAD_REFERENCE.format(field="contractServiceID"))
            return cs
        service_id = int(adj["serviceID"])
        for cs in self.store.where(CONTRACT_SERVICES, "contractID", [contract_id]):
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


def _markup(record: Record) -> float | None:
    price, cost = record.get("unitPrice"), record.get("unitCost")
    if price is None or not cost:
        return None
    return round((float(price) - float(cost)) / float(cost) * 100, 4)
