"""What a write must satisfy and what it causes, for catalog items and agreement additions.

Each check names its source in docs/connectwise.md; the ones no source settles are
marked there UNCONFIRMED (and most are settings in :class:`SimConfig`).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from . import errors as E
from .config import SimConfig
from .entities import (
    ADDITIONS,
    AGREEMENTS,
    CATALOG,
    CATEGORIES,
    COMPANIES,
    PRODUCT_TYPES,
    SUBCATEGORIES,
)
from .store import Record, Store

BILL_CUSTOMER = ("Billable", "DoNotBill", "NoCharge")
PRODUCT_CLASSES = ("Agreement", "Bundle", "Inventory", "NonInventory", "Service")
API_MEMBER = "PrismAPI"

#: Fields an addition keeps once billed (config.lock_billed_additions).
BILLED_FIELDS = ("product", "quantity", "lessIncluded", "unitPrice", "unitCost", "effectiveDate")


def wire_day(value: date) -> str:
    return f"{value.isoformat()}T00:00:00Z"


def day_of(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value)
    if "T" not in text:
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.date()


class _Errors:
    """Collects every broken rule of one body, as ConnectWise lists them together."""

    def __init__(self, resource: str) -> None:
        self.resource = resource
        self.items: list[dict[str, Any]] = []

    def add(self, code: str, message: str, field: str) -> None:
        self.items.append(E.detail(code, message, self.resource, field))

    def raise_any(self) -> None:
        if self.items:
            raise E.invalid(self.resource, self.items)


def _member(body: dict[str, Any], name: str) -> Any:
    if name in body:
        return body[name]
    low = name.lower()
    return next((v for k, v in body.items() if k.lower() == low), None)


BILLED_THROUGH = "billedThrough"


class Rules:
    def __init__(self, store: Store, config: SimConfig) -> None:
        self.store = store
        self.config = config
        #: Agreement id -> the first day not yet invoiced (set by an invoice run; kept in
        #: the store, so a restarted simulator still locks what was billed).
        self.billed_through: dict[int, date] = {
            int(k): date.fromisoformat(v) for k, v in store.meta(BILLED_THROUGH, {}).items()
        }

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.config.clock(), UTC)

    def today(self) -> date:
        return self.now().date()

    def info(self) -> dict[str, Any]:
        return {
            "lastUpdated": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updatedBy": API_MEMBER,
        }

    # -- field checks -------------------------------------------------------------------

    def _string(
        self, errors: _Errors, body: dict[str, Any], field: str, *, length: int, required: bool
    ) -> str | None:
        value = _member(body, field)
        if value is None or (isinstance(value, str) and not value.strip() and required):
            if required:
                errors.add("NullValue", E.REQUIRED.format(field=field), field)
            return None
        if not isinstance(value, str):
            errors.add("InvalidValue", E.BAD_VALUE.format(field=field), field)
            return None
        if len(value) > length:
            errors.add("MaxLengthField", E.max_length(field, length), field)
        return value

    def _number(
        self, errors: _Errors, body: dict[str, Any], field: str, default: float | None
    ) -> float | None:
        value = _member(body, field)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            errors.add("InvalidValue", E.BAD_VALUE.format(field=field), field)
            return default
        try:
            return float(Decimal(str(value)))
        except ArithmeticError:
            errors.add("InvalidValue", E.BAD_VALUE.format(field=field), field)
            return default

    def _bool(self, errors: _Errors, body: dict[str, Any], field: str, default: bool) -> bool:
        value = _member(body, field)
        if value is None:
            return default
        if not isinstance(value, bool):
            errors.add("InvalidValue", E.BAD_VALUE.format(field=field), field)
            return default
        return value

    def _enum(
        self,
        errors: _Errors,
        body: dict[str, Any],
        field: str,
        allowed: tuple[str, ...],
        default: str | None,
    ) -> str | None:
        value = _member(body, field)
        if value is None:
            if default is None:
                errors.add("NullValue", E.REQUIRED.format(field=field), field)
            return default
        match = next(
            (a for a in allowed if isinstance(value, str) and a.lower() == value.lower()), None
        )
        if match is None:
            errors.add(
                "InvalidValue", E.BAD_ENUM.format(field=field, allowed=", ".join(allowed)), field
            )
        return match

    def _day(self, errors: _Errors, body: dict[str, Any], field: str) -> date | None:
        value = _member(body, field)
        if value is None:
            return None
        try:
            return day_of(value)
        except (TypeError, ValueError):
            errors.add("InvalidValue", E.BAD_VALUE.format(field=field), field)
            return None

    def _reference(
        self,
        errors: _Errors,
        body: dict[str, Any],
        field: str,
        entity: str,
        what: str,
        *,
        required: bool,
        label: Callable[[Record], dict[str, Any]],
    ) -> tuple[dict[str, Any] | None, Record | None]:
        value = _member(body, field)
        if value is None:
            if required:
                errors.add("NullValue", E.REQUIRED.format(field=field), field)
            return None, None
        ref_id = _member(value, "id") if isinstance(value, dict) else None
        if isinstance(ref_id, bool) or not isinstance(ref_id, int):
            errors.add("InvalidValue", E.BAD_VALUE.format(field=f"{field}/id"), f"{field}/id")
            return None, None
        target = self.store.get(entity, ref_id)
        if target is None:
            # Documented shape: code NotFound, field "status/id".
            errors.add("NotFound", E.REF_NOT_FOUND.format(what=what, id=ref_id), f"{field}/id")
            return None, None
        return {"id": ref_id} | label(target), target

    # -- catalog items ------------------------------------------------------------------

    def catalog_item(self, body: dict[str, Any], *, existing: Record | None = None) -> Record:
        cfg = self.config
        errors = _Errors("catalogItem")
        identifier = self._string(
            errors, body, "identifier", length=cfg.catalog_identifier_length, required=True
        )
        description = self._string(
            errors, body, "description", length=cfg.catalog_description_length, required=True
        )
        customer_description = self._string(
            errors,
            body,
            "customerDescription",
            length=cfg.customer_description_length,
            required=False,
        )
        named: Callable[[Record], dict[str, Any]] = lambda r: {"name": r.get("name")}  # noqa: E731
        type_ref, _ = self._reference(
            errors, body, "type", PRODUCT_TYPES, "Product Type", required=True, label=named
        )
        sub_ref, sub = self._reference(
            errors, body, "subcategory", SUBCATEGORIES, "Subcategory", required=True, label=named
        )
        vendor_ref, _ = self._reference(
            errors,
            body,
            "vendor",
            COMPANIES,
            "Company",
            required=False,
            label=lambda r: {"identifier": r.get("identifier"), "name": r.get("name")},
        )
        record: Record = {
            "id": existing["id"] if existing else None,
            "identifier": identifier,
            "description": description,
            "customerDescription": customer_description
            if customer_description is not None
            else description,
            "inactiveFlag": self._bool(errors, body, "inactiveFlag", False),
            "subcategory": sub_ref,
            "category": None,
            "type": type_ref,
            "productClass": self._enum(
                errors, body, "productClass", PRODUCT_CLASSES, "NonInventory"
            ),
            "price": self._number(errors, body, "price", 0.0),
            "cost": self._number(errors, body, "cost", 0.0),
            "taxableFlag": self._bool(errors, body, "taxableFlag", False),
            "recurringFlag": self._bool(errors, body, "recurringFlag", False),
            "integrationXRef": self._string(
                errors, body, "integrationXRef", length=50, required=False
            ),
            "vendor": vendor_ref,
        }
        if sub is not None and isinstance(sub.get("category"), dict):
            category = self.store.get(CATEGORIES, int(sub["category"]["id"]))
            record["category"] = {"id": sub["category"]["id"]} | (
                {"name": category.get("name")} if category else {}
            )
        if identifier is not None:
            taken = next(
                (
                    r
                    for r in self.store.all(CATALOG)
                    if str(r.get("identifier", "")).lower() == identifier.lower()
                    and (existing is None or r["id"] != existing["id"])
                ),
                None,
            )
            if taken is not None:
                errors.add(
                    "UniqueIdentifier",
                    E.DUPLICATE_IDENTIFIER.format(value=identifier),
                    "identifier",
                )
        errors.raise_any()
        if record["id"] is None:
            record["id"] = self.store.new_id(CATALOG, start=1001)
        record["_info"] = self.info()
        return record

    # -- agreement additions ------------------------------------------------------------

    def addition(
        self, agreement: Record, body: dict[str, Any], *, existing: Record | None = None
    ) -> Record:
        errors = _Errors("addition")
        labelled: Callable[[Record], dict[str, Any]] = lambda r: {  # noqa: E731
            "identifier": r.get("identifier"),
            "description": r.get("description"),
        }
        product_ref, product = self._reference(
            errors, body, "product", CATALOG, "Product", required=True, label=labelled
        )
        if (
            product is not None
            and product.get("inactiveFlag")
            and (existing is None or existing["product"]["id"] != product["id"])
        ):
            errors.add("InvalidValue", "The product is inactive.", "product/id")
        bill = self._enum(errors, body, "billCustomer", BILL_CUSTOMER, None)
        quantity = self._number(errors, body, "quantity", 1.0)
        less_included = self._number(errors, body, "lessIncluded", 0.0)
        unit_price = self._number(
            errors, body, "unitPrice", float(product["price"]) if product else 0.0
        )
        unit_cost = self._number(
            errors, body, "unitCost", float(product["cost"]) if product else 0.0
        )
        for field, value in (("quantity", quantity), ("lessIncluded", less_included)):
            if value is not None and value < 0:
                errors.add("InvalidValue", E.BAD_VALUE.format(field=field), field)
        effective = self._day(errors, body, "effectiveDate")
        if effective is None and _member(body, "effectiveDate") is None:
            effective = self.today()
        cancelled = self._day(errors, body, "cancelledDate")
        if effective is not None and cancelled is not None and cancelled < effective:
            errors.add("InvalidValue", E.CANCELLED_BEFORE_EFFECTIVE, "cancelledDate")
        start = day_of(agreement.get("startDate"))
        if (
            self.config.addition_within_agreement
            and effective is not None
            and start is not None
            and effective < start
        ):
            errors.add("InvalidValue", E.BEFORE_AGREEMENT, "effectiveDate")
        invoice_description = self._string(
            errors,
            body,
            "invoiceDescription",
            length=self.config.invoice_description_length,
            required=False,
        )
        record: Record = {
            "id": existing["id"] if existing else None,
            "product": product_ref,
            "quantity": quantity,
            "lessIncluded": less_included,
            "unitPrice": unit_price,
            "unitCost": unit_cost,
            "billCustomer": bill,
            "effectiveDate": wire_day(effective) if effective else None,
            "cancelledDate": wire_day(cancelled) if cancelled else None,
            "taxableFlag": self._bool(errors, body, "taxableFlag", False),
            "invoiceDescription": invoice_description,
            "description": product.get("description") if product else None,
            "agreementId": int(agreement["id"]),
        }
        if existing is not None:
            self._billed_history_kept(errors, agreement, existing, record)
        errors.raise_any()
        self._derive(record)
        if record["id"] is None:
            record["id"] = self.store.new_id(ADDITIONS, start=5001)
        record["_info"] = self.info()
        return record

    def _billed_history_kept(
        self, errors: _Errors, agreement: Record, old: Record, new: Record
    ) -> None:
        through = self.billed_through.get(int(agreement["id"]))
        if not self.config.lock_billed_additions or through is None:
            return
        old_effective = day_of(old.get("effectiveDate"))
        if old_effective is not None and old_effective < through:
            for field in BILLED_FIELDS:
                before, after = old.get(field), new.get(field)
                if field == "product":
                    before = (before or {}).get("id")
                    after = (after or {}).get("id")
                if before != after:
                    errors.add(
                        "InvalidValue",
                        E.BILLED_CHANGE.format(field=field, through=through.isoformat()),
                        field,
                    )
        cancelled = day_of(new.get("cancelledDate"))
        if (
            cancelled is not None
            and cancelled < through
            and new.get("cancelledDate") != old.get("cancelledDate")
        ):
            errors.add(
                "InvalidValue", E.BILLED_CANCEL.format(through=through.isoformat()), "cancelledDate"
            )

    def _derive(self, record: Record) -> None:
        """Read-only fields ConnectWise computes (extPrice, agreementStatus, ...)."""
        billable = float(record["quantity"] or 0) - float(record["lessIncluded"] or 0)
        record["extPrice"] = round(max(billable, 0.0) * float(record["unitPrice"] or 0), 2)
        record["extCost"] = round(
            float(record["quantity"] or 0) * float(record["unitCost"] or 0), 2
        )
        record["billedQuantity"] = max(billable, 0.0)
        cancelled = day_of(record.get("cancelledDate"))
        record["agreementStatus"] = (
            "Cancelled" if cancelled is not None and cancelled <= self.today() else "Active"
        )

    # -- invoicing (the back door's billing run) ------------------------------------------

    def invoice(self, agreement_id: int, period_start: date, period_end: date) -> list[Record]:
        """What ConnectWise bills for each addition over ``[period_start, period_end]``:
        prorated by the days it was in effect (effective day to the day before its
        cancelled date), when it is billable (UNCONFIRMED exact formula)."""
        agreement = self.store.get(AGREEMENTS, agreement_id)
        if agreement is None:
            raise KeyError(f"agreement {agreement_id} does not exist")
        days = (period_end - period_start).days + 1
        lines: list[Record] = []
        for addition in sorted(self.store.all(ADDITIONS), key=lambda r: int(r["id"])):
            if addition["agreementId"] != agreement_id:
                continue
            effective = day_of(addition["effectiveDate"]) or period_start
            cancelled = day_of(addition.get("cancelledDate"))
            first = max(effective, period_start)
            last = min(period_end, cancelled - timedelta(days=1) if cancelled else period_end)
            active = (last - first).days + 1
            if active <= 0:
                continue
            billable = addition["billCustomer"] == "Billable"
            amount = addition["extPrice"] * active / days if billable else 0.0
            lines.append(
                {
                    "additionId": addition["id"],
                    "days": active,
                    "periodDays": days,
                    "quantity": addition["billedQuantity"],
                    "amount": round(amount, 2),
                }
            )
        current = self.billed_through.get(agreement_id)
        through = period_end + timedelta(days=1)
        self.billed_through[agreement_id] = max(current, through) if current else through
        self.store.set_meta(
            BILLED_THROUGH, {str(k): v.isoformat() for k, v in self.billed_through.items()}
        )
        return lines


def month_bounds(day: date) -> tuple[date, date]:
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)
