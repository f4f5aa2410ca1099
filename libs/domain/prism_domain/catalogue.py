"""A program's price list (SPEC P1, S3): products, prices versioned by effective date.

A price list entry is one SKU: name, description, partner buy price (cost), RRP (sell price),
billing term, kind and retired flag. Prices are per billing term: a MONTHLY product's price is
per licence per month, an ANNUAL product's per licence per year. Prices change only through a
new `PriceVersion` with an effective date, and each change raises `product.price_changed`.

An RRP below the buy price is a *warning* (`BELOW_COST`), not an error: promotions and
loss-leaders are legitimate, but the partner should see that it sells at a loss.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.events import DomainEvent, register
from prism_domain.money import CurrencyMismatchError, Money, parse_amount
from prism_domain.text import clean_name

# Autotask names a product's service "PC_" + SKU (S3); 64 keeps that well inside its limits.
SKU_MAX_LENGTH = 64
NAME_MAX_LENGTH = 255
DESCRIPTION_MAX_LENGTH = 4000
# Microsoft CSP GUIDs, "CFQ7TTC0LH18:0001", "MC-SEG-100": letters, digits and . _ : / -.
_SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
E = TypeVar("E", bound=StrEnum)
# Spellings met in real price lists for the same values.
_ALIASES = {"LICENSE": "LICENCE", "YEARLY": "ANNUAL", "ANNUALLY": "ANNUAL", "MONTH": "MONTHLY"}
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


class BillingTerm(StrEnum):
    MONTHLY = "MONTHLY"
    ANNUAL = "ANNUAL"


class ProductKind(StrEnum):
    """LICENCE: per seat per term; USAGE: metered (e.g. Azure), billed from usage records;
    ONE_TIME_FEE: charged once (set-up, onboarding)."""

    LICENCE = "LICENCE"
    USAGE = "USAGE"
    ONE_TIME_FEE = "ONE_TIME_FEE"


def clean_sku(value: str | None, *, field: str, errors: list[FieldError]) -> str:
    text = (value or "").strip()
    if not text:
        errors.append(FieldError(field, ErrorCode.REQUIRED, "SKU is required."))
    elif len(text) > SKU_MAX_LENGTH:
        errors.append(
            FieldError(
                field, ErrorCode.TOO_LONG, f"SKU must be at most {SKU_MAX_LENGTH} characters."
            )
        )
    elif not _SKU.match(text):
        errors.append(
            FieldError(
                field,
                ErrorCode.INVALID,
                "SKU may hold only letters, digits and . _ : / - and must start with a letter "
                "or digit.",
            )
        )
    return text


def _choice(
    enum: type[E], value: str | E | None, *, field: str, label: str, errors: list[FieldError]
) -> E | None:
    text = (value or "").strip().upper().replace(" ", "_").replace("-", "_")
    text = _ALIASES.get(text, text)
    if not text:
        errors.append(FieldError(field, ErrorCode.REQUIRED, f"{label} is required."))
        return None
    try:
        return enum(text)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        errors.append(
            FieldError(
                field, ErrorCode.INVALID, f"{label} must be one of {allowed} (got '{text[:40]}')."
            )
        )
        return None


def _flag(value: bool | str | None, *, field: str, label: str, errors: list[FieldError]) -> bool:
    if isinstance(value, bool):
        return value
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        errors.append(
            FieldError(
                field, ErrorCode.INVALID, f"{label} must be true or false (got '{text[:40]}')."
            )
        )
    return False


def _price(
    value: str | Decimal | None, *, field: str, label: str, errors: list[FieldError]
) -> Decimal | None:
    if isinstance(value, Decimal):
        value = format(value, "f") if value.is_finite() else str(value)
    return parse_amount(value, field=field, label=label, errors=errors)


@dataclass(frozen=True, slots=True)
class PriceListEntry:
    """One validated row of a price list, with the prices in force."""

    sku: str
    name: str
    description: str
    buy_price: Money
    rrp: Money
    billing_term: BillingTerm
    kind: ProductKind
    retired: bool = False

    def __post_init__(self) -> None:
        if self.buy_price.currency != self.rrp.currency:
            raise CurrencyMismatchError("buy price and RRP must be in one currency")

    @property
    def currency(self) -> str:
        return self.rrp.currency

    @classmethod
    def parse(
        cls,
        *,
        sku: str | None,
        name: str | None,
        description: str | None,
        buy_price: str | Decimal | None,
        rrp: str | Decimal | None,
        billing_term: str | BillingTerm | None,
        kind: str | ProductKind | None,
        retired: bool | str | None = False,
        currency: str,
    ) -> PriceListEntry:
        """Validate raw input; every problem is a `FieldError` named after its argument."""
        errors: list[FieldError] = []
        clean = clean_sku(sku, field="sku", errors=errors)
        clean_nm = clean_name(
            name, field="name", label="Name", max_length=NAME_MAX_LENGTH, errors=errors
        )
        desc = (description or "").strip()
        if len(desc) > DESCRIPTION_MAX_LENGTH:
            errors.append(
                FieldError(
                    "description",
                    ErrorCode.TOO_LONG,
                    f"Description must be at most {DESCRIPTION_MAX_LENGTH} characters.",
                )
            )
        buy = _price(buy_price, field="buy_price", label="Buy price", errors=errors)
        sell = _price(rrp, field="rrp", label="RRP", errors=errors)
        term = _choice(
            BillingTerm, billing_term, field="billing_term", label="Billing term", errors=errors
        )
        kind_ = _choice(ProductKind, kind, field="kind", label="Kind", errors=errors)
        is_retired = _flag(retired, field="retired", label="Retired", errors=errors)
        if errors or buy is None or sell is None or term is None or kind_ is None:
            raise DomainValidationError(errors)
        return cls(
            sku=clean,
            name=clean_nm,
            description=desc,
            buy_price=Money(buy, currency),
            rrp=Money(sell, currency),
            billing_term=term,
            kind=kind_,
            retired=is_retired,
        )

    def warnings(self) -> list[FieldError]:
        """Accepted but worth a look: selling below cost."""
        if self.rrp < self.buy_price:
            return [
                FieldError(
                    "rrp",
                    ErrorCode.BELOW_COST,
                    f"RRP {self.rrp} is below the buy price {self.buy_price}: "
                    "this product sells at a loss.",
                )
            ]
        return []

    def same_prices(self, other: PriceListEntry) -> bool:
        return self.buy_price == other.buy_price and self.rrp == other.rrp

    def same_details(self, other: PriceListEntry) -> bool:
        return (self.name, self.description, self.billing_term, self.kind, self.retired) == (
            other.name,
            other.description,
            other.billing_term,
            other.kind,
            other.retired,
        )


@dataclass(frozen=True, slots=True)
class PriceVersion:
    """Prices in force from `effective_from` until the next version's date."""

    effective_from: date
    buy_price: Money
    rrp: Money

    def __post_init__(self) -> None:
        if self.buy_price.currency != self.rrp.currency:
            raise CurrencyMismatchError("buy price and RRP must be in one currency")


@dataclass(frozen=True, slots=True)
class Product:
    """A SKU with its price history (P1); versions are kept sorted by effective date."""

    sku: str
    name: str
    billing_term: BillingTerm
    kind: ProductKind
    prices: tuple[PriceVersion, ...]
    retired: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.prices, key=lambda v: v.effective_from))
        dates = [v.effective_from for v in ordered]
        if len(set(dates)) != len(dates):
            raise ValueError(f"{self.sku}: two price versions with one effective date")
        if len({v.rrp.currency for v in ordered}) > 1:
            raise CurrencyMismatchError(f"{self.sku}: price versions in several currencies")
        object.__setattr__(self, "prices", ordered)

    def price_on(self, day: date) -> PriceVersion | None:
        """The version with the latest effective date on or before `day`; None before any."""
        found: PriceVersion | None = None
        for version in self.prices:
            if version.effective_from > day:
                break
            found = version
        return found

    def with_price(self, version: PriceVersion) -> Product:
        """A new version; one with the same effective date replaces the old (a correction)."""
        kept = tuple(v for v in self.prices if v.effective_from != version.effective_from)
        return replace(self, prices=(*kept, version))


@register
@dataclass(frozen=True, kw_only=True)
class ProductPriceChanged(DomainEvent):
    """P1, S8: a SKU's buy price or RRP changes from `effective_from` (prices as strings)."""

    type = "product.price_changed"
    version = 1
    aggregate_type = "product"

    program_id: int | str
    sku: str
    currency: str
    effective_from: str
    old_buy_price: str | None
    old_rrp: str | None
    new_buy_price: str
    new_rrp: str


def price_changed(
    *,
    product_id: int | str,
    program_id: int | str,
    sku: str,
    before: PriceVersion | None,
    after: PriceVersion,
) -> ProductPriceChanged | None:
    """The event for a new price version, or None when neither price moved."""
    if before is not None and (before.buy_price, before.rrp) == (after.buy_price, after.rrp):
        return None
    return ProductPriceChanged(
        aggregate_id=str(product_id),
        program_id=program_id,
        sku=sku,
        currency=after.rrp.currency,
        effective_from=after.effective_from.isoformat(),
        old_buy_price=before.buy_price.to_json() if before else None,
        old_rrp=before.rrp.to_json() if before else None,
        new_buy_price=after.buy_price.to_json(),
        new_rrp=after.rrp.to_json(),
    )


@dataclass(frozen=True, slots=True)
class PriceChange:
    sku: str
    before: PriceListEntry
    after: PriceListEntry


@dataclass(frozen=True, slots=True)
class PriceListDiff:
    """What an import would do (dry run). Each SKU is in exactly one list, first match of:
    created, retired, price_changed (details may change too), updated (details only),
    unchanged."""

    created: tuple[PriceListEntry, ...] = ()
    retired: tuple[PriceListEntry, ...] = ()
    price_changed: tuple[PriceChange, ...] = ()
    updated: tuple[PriceListEntry, ...] = ()
    unchanged: tuple[str, ...] = field(default=())

    @property
    def has_changes(self) -> bool:
        return bool(self.created or self.retired or self.price_changed or self.updated)


def diff_price_list(
    current: Iterable[PriceListEntry],
    incoming: Iterable[PriceListEntry],
    *,
    retire_missing: bool = False,
) -> PriceListDiff:
    """Compare an imported list with the one in force, by SKU (case-insensitive).

    `retire_missing`: the file is the whole price list, so an active SKU absent from it is
    retired. Off by default, because a partial file must never retire half a catalogue.
    """
    now = {e.sku.casefold(): e for e in current}
    created: list[PriceListEntry] = []
    retired: list[PriceListEntry] = []
    changed: list[PriceChange] = []
    updated: list[PriceListEntry] = []
    unchanged: list[str] = []
    seen: set[str] = set()
    for entry in incoming:
        key = entry.sku.casefold()
        seen.add(key)
        before = now.get(key)
        if before is None:
            created.append(entry)
        elif entry.retired and not before.retired:
            retired.append(entry)
        elif not entry.same_prices(before):
            changed.append(PriceChange(entry.sku, before, entry))
        elif not entry.same_details(before):
            updated.append(entry)
        else:
            unchanged.append(entry.sku)
    if retire_missing:
        retired.extend(
            replace(e, retired=True) for k, e in now.items() if k not in seen and not e.retired
        )
    return PriceListDiff(
        created=tuple(created),
        retired=tuple(retired),
        price_changed=tuple(changed),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
    )
