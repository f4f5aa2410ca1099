"""Product sync planning (SPEC S3), pure and PSA-neutral.

Given the price list, the stored product → service links and what the PSA holds for them,
decide per product: create its service, update its price and cost, re-create it (deleted in
the PSA), skip it (nothing changed), or report an error. Nothing here talks to a PSA or a
database, so every rule is a unit test.

- One service per product, named `PC_` + SKU; texts cut to the PSA's limits (a warning).
- After the first sync only unit price (RRP) and unit cost (buy price) change, on the
  service found by its stored id; the partner may rename it or set it inactive (it stays so).
- A product gone from the price list (retired, or not in use) never deletes its service.
- A name taken by a service Prism did not create is an item error saying how to fix it.
  A `PC_` service Prism did create, but whose link was lost (a crash after Autotask
  committed the create, before our commit), is adopted: see `is_own_lost_create`.
- A retired product is synced only through a link a person made by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from prism_domain.money import ROUNDING, UNIT_PRICE_PLACES
from prism_domain.sync import service_name
from prism_psa.port import FieldLimits, PsaService

#: Prices are stored with six decimals (prism_domain.money) and compared at that precision.
MONEY_PLACES = Decimal(1).scaleb(-UNIT_PRICE_PLACES)


class Action(StrEnum):
    CREATE = "CREATE"
    UPDATE_PRICE = "UPDATE_PRICE"
    RECREATE = "RECREATE"
    SKIP = "SKIP"
    ERROR = "ERROR"


NAME_CLASH = (
    "A service named {name} already exists in the PSA (an Autotask service, or a "
    "ConnectWise product catalog item) and was not created by Prism. Rename or delete "
    "that service, then sync products again; or map this product to it by hand. After a "
    "successful sync you may rename the service: Prism keeps syncing the product to it."
)
RETIRED_UNMAPPED = (
    "Retired product: it is no longer on the price list, so no service is created for it. "
    "Create the service in the PSA yourself and map the product to it by hand."
)
MAPPED_BY_HAND = (
    "Mapped by hand to an existing service; Prism does not change services it did not create."
)
MAPPED_SERVICE_GONE = (
    "The service this retired product was mapped to no longer exists in the PSA: create "
    "one and map the product to it again."
)
NO_PRICE = "The product has no price in force yet; it is synced once it has one."
TRUNCATED = "{field} is longer than the PSA allows ({limit} characters) and was truncated."


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    product_id: int
    sku: str
    name: str
    description: str
    retired: bool
    buy_price: Decimal | None
    rrp: Decimal | None


@dataclass(frozen=True, slots=True)
class Link:
    product_id: int
    service_id: int
    manual: bool = False


@dataclass(frozen=True, slots=True)
class PlannedItem:
    product_id: int
    sku: str
    product_name: str
    action: Action
    service_id: int | None = None
    service_name: str | None = None
    description: str | None = None
    invoice_description: str | None = None
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None
    warnings: tuple[str, ...] = ()
    message: str | None = None
    #: The service is Prism's own lost create, found by name: link it (no new service).
    adopted: bool = False

    @property
    def writes(self) -> bool:
        return self.action in (Action.CREATE, Action.RECREATE, Action.UPDATE_PRICE)


@dataclass(frozen=True, slots=True)
class Plan:
    items: tuple[PlannedItem, ...] = field(default_factory=tuple)

    @property
    def writes(self) -> tuple[PlannedItem, ...]:
        return tuple(i for i in self.items if i.writes)

    def names_to_check(self) -> set[str]:
        return {i.service_name for i in self.items if i.service_name and i.writes}


def same_money(psa: Decimal | None, stored: Decimal | None) -> bool:
    """Whether the PSA already holds the stored price: equal at the stored six decimals, so
    a change of 0.000001 is an update. Autotask keeps prices as doubles and answers with the
    double it holds, e.g. 9.123455999999999 for 9.123456 (equal at six decimals), or
    12345678901234.123 for 12345678901234.123456, which no double holds: the same double as
    the stored price is also "no change", as writing it again could never change the PSA
    (and would repeat on every sync)."""
    if psa is None or stored is None:
        return psa is stored
    at_places = psa.quantize(MONEY_PLACES, ROUNDING) == stored.quantize(MONEY_PLACES, ROUNDING)
    return at_places or float(psa) == float(stored)


def _fit(text: str, limit: int, label: str, warnings: list[str]) -> str:
    if len(text) > limit:
        warnings.append(TRUNCATED.format(field=label, limit=limit))
        return text[:limit]
    return text


def needs_name_lookup(
    items: Iterable[CatalogueItem],
    links: Mapping[int, Link],
    services_by_id: Mapping[int, PsaService],
) -> set[str]:
    """Names the planner must know about: those of services it may create."""
    names = set()
    for item in items:
        link = links.get(item.product_id)
        if item.retired or (link is not None and link.manual):
            continue
        if link is None or link.service_id not in services_by_id:
            names.add(service_name(item.sku))
    return names


def plan_products(
    items: Iterable[CatalogueItem],
    links: Mapping[int, Link],
    services_by_id: Mapping[int, PsaService],
    services_by_name: Mapping[str, PsaService],
    limits: FieldLimits,
) -> Plan:
    """The actions a sync takes, one per product (ordered by SKU)."""
    planned: list[PlannedItem] = []
    linked = {link.service_id for link in links.values()}
    for item in sorted(items, key=lambda i: i.sku.casefold()):
        link = links.get(item.product_id)
        planned.append(_plan_one(item, link, services_by_id, services_by_name, limits, linked))
    return Plan(tuple(planned))


ADOPTED = (
    "Linked to the existing service {name}: Prism created it in a sync that was interrupted "
    "before it could record the link."
)


def is_own_lost_create(
    service: PsaService, description: str, invoice_description: str, linked: set[int]
) -> bool:
    """Whether a service holding a product's `PC_` name is Prism's own create whose link was
    lost: no product links to it, and both its texts are exactly what Prism writes for this
    product (a service a person made, or one Prism created and a person then edited, is not
    adopted: that stays a name clash for a person to resolve)."""
    return (
        service.id not in linked
        and (service.description or "") == description
        and (service.invoice_description or "") == invoice_description
    )


def _plan_one(
    item: CatalogueItem,
    link: Link | None,
    services_by_id: Mapping[int, PsaService],
    services_by_name: Mapping[str, PsaService],
    limits: FieldLimits,
    linked: set[int] | None = None,
) -> PlannedItem:
    base = PlannedItem(item.product_id, item.sku, item.name, Action.SKIP)
    existing = services_by_id.get(link.service_id) if link else None
    if link is not None and link.manual:
        if existing is None:
            return replace(base, action=Action.ERROR, message=MAPPED_SERVICE_GONE)
        return replace(
            base, service_id=existing.id, service_name=existing.name, message=MAPPED_BY_HAND
        )
    if item.rrp is None or item.buy_price is None:
        return replace(base, message=NO_PRICE)
    if existing is not None:
        found = replace(
            base,
            service_id=existing.id,
            service_name=existing.name,
            unit_price=item.rrp,
            unit_cost=item.buy_price,
        )
        if same_money(existing.unit_price, item.rrp) and same_money(
            existing.unit_cost, item.buy_price
        ):
            return found
        return replace(found, action=Action.UPDATE_PRICE)
    if item.retired:
        return replace(base, action=Action.ERROR, message=RETIRED_UNMAPPED)
    name = service_name(item.sku)
    warnings: list[str] = []
    text = item.description.strip() or item.name
    description = _fit(text, limits.description, "Description", warnings)
    invoice_description = _fit(text, limits.invoice_description, "Invoice description", warnings)
    clash = services_by_name.get(name.casefold())
    if clash is not None and is_own_lost_create(
        clash, description, invoice_description, linked or set()
    ):
        adopted = replace(
            base,
            service_id=clash.id,
            service_name=clash.name,
            unit_price=item.rrp,
            unit_cost=item.buy_price,
            adopted=True,
            message=ADOPTED.format(name=clash.name),
        )
        if same_money(clash.unit_price, item.rrp) and same_money(clash.unit_cost, item.buy_price):
            return adopted
        return replace(adopted, action=Action.UPDATE_PRICE)
    if clash is not None:
        return replace(
            base,
            action=Action.ERROR,
            service_id=clash.id,
            service_name=name,
            message=NAME_CLASH.format(name=name),
        )
    return replace(
        base,
        action=Action.RECREATE if link is not None else Action.CREATE,
        service_name=name,
        description=description,
        invoice_description=invoice_description,
        unit_price=item.rrp,
        unit_cost=item.buy_price,
        warnings=tuple(warnings),
    )
