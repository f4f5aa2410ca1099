"""Typed entities (pydantic v2).

Python names are snake_case; wire names are ConnectWise's camelCase (``unit_price`` <->
``unitPrice``). Unknown fields are kept, since ConnectWise adds fields every release and a
read-modify-write must not drop them. Money is ``Decimal``; instants are UTC-aware; fields
that hold a calendar day are ``Day`` (``date``), sent at midnight UTC (see ``dates``).
Field lists and limits: docs/connectwise.md §5.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from .dates import format_datetime, format_day, parse_datetime, parse_day


def _to_datetime(value: Any) -> Any:
    if isinstance(value, str):
        return parse_datetime(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime is ambiguous; give it a timezone")
    return value


def _to_day(value: Any) -> Any:
    if isinstance(value, str):
        return parse_day(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime is ambiguous; give a date")
        return value.date()
    return value


UtcDatetime = Annotated[
    datetime,
    BeforeValidator(_to_datetime),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
]
Day = Annotated[
    date,
    BeforeValidator(_to_day),
    PlainSerializer(format_day, return_type=str, when_used="json"),
]
Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
Quantity = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

#: How an addition is billed (an enum in every published model of Addition).
BillCustomer = Literal["Billable", "DoNotBill", "NoCharge"]
#: A catalog item's class; ConnectWise defaults it to NonInventory.
ProductClass = Literal["Agreement", "Bundle", "Inventory", "NonInventory", "Service"]


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def to_wire(self, *, exclude: set[str] | None = None) -> dict[str, Any]:
        """The fields that were set, as the API spells them."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=exclude)


class Reference(WireModel):
    """A reference to another record (``{"id": 5, "name": "..."}``); writes need the id."""

    id: int | None = None
    name: str | None = None
    identifier: str | None = None

    @classmethod
    def to(cls, id: int) -> Reference:
        return cls(id=id)


class Entity(WireModel):
    """A ConnectWise record. ``PATH`` is its collection, relative to ``apis/3.0/``."""

    PATH: ClassVar[str] = ""
    id: int | None = None
    #: Read-only metadata (``lastUpdated``, ``updatedBy``, links).
    info: dict[str, Any] | None = Field(default=None, alias="_info")


class Company(Entity):
    PATH: ClassVar[str] = "company/companies"
    identifier: str | None = None
    name: str | None = None
    status: Reference | None = None
    types: list[Reference] | None = None
    deleted_flag: bool | None = None
    phone_number: str | None = None
    website: str | None = None


class AgreementType(Entity):
    PATH: ClassVar[str] = "finance/agreements/types"
    name: str | None = None
    inactive_flag: bool | None = None
    prorate_flag: bool | None = None
    invoice_prorated_additions_flag: bool | None = None


class Agreement(Entity):
    PATH: ClassVar[str] = "finance/agreements"
    name: str | None = None
    type: Reference | None = None
    company: Reference | None = None
    contact: Reference | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    no_ending_date_flag: bool | None = None
    cancelled_flag: bool | None = None
    date_cancelled: Day | None = None
    agreement_status: str | None = None
    billing_cycle: Reference | None = None
    bill_amount: Money | None = None
    prorate_flag: bool | None = None
    invoice_prorated_additions_flag: bool | None = None
    parent_agreement: Reference | None = None


class Addition(Entity):
    """A product on an agreement; ConnectWise prorates it from ``effective_date`` to
    ``cancelled_date`` when the agreement bills (docs/connectwise.md §5)."""

    PATH: ClassVar[str] = "finance/agreements/{agreement_id}/additions"
    product: Reference | None = None
    quantity: Quantity | None = None
    less_included: Quantity | None = None
    unit_price: Money | None = None
    unit_cost: Money | None = None
    bill_customer: BillCustomer | None = None
    effective_date: Day | None = None
    cancelled_date: Day | None = None
    taxable_flag: bool | None = None
    invoice_description: str | None = None
    description: str | None = None
    agreement_id: int | None = None
    agreement_status: str | None = None
    billed_quantity: Quantity | None = None
    ext_price: Money | None = None
    ext_cost: Money | None = None
    prorate_price: Money | None = None
    prorate_cost: Money | None = None
    prorate_current_period_flag: bool | None = None


class CatalogItem(Entity):
    PATH: ClassVar[str] = "procurement/catalog"
    identifier: str | None = None
    description: str | None = None
    customer_description: str | None = None
    inactive_flag: bool | None = None
    subcategory: Reference | None = None
    category: Reference | None = None
    type: Reference | None = None
    product_class: ProductClass | None = None
    price: Money | None = None
    cost: Money | None = None
    taxable_flag: bool | None = None
    recurring_flag: bool | None = None
    integration_x_ref: str | None = None
    vendor: Reference | None = None  # a company


class ProductType(Entity):
    PATH: ClassVar[str] = "procurement/types"
    name: str | None = None
    inactive_flag: bool | None = None


class ProductSubcategory(Entity):
    PATH: ClassVar[str] = "procurement/subcategories"
    name: str | None = None
    category: Reference | None = None
    inactive_flag: bool | None = None


class CompanyInfo(BaseModel):
    """``/login/companyinfo/{companyId}``: where the company's API lives (PascalCase)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    company_name: str | None = Field(default=None, alias="CompanyName")
    #: ``v4_6_release/`` on premise; the release (``v2025_1/``) in the cloud.
    codebase: str = Field(alias="Codebase")
    version_code: str | None = Field(default=None, alias="VersionCode")
    version_number: str | None = Field(default=None, alias="VersionNumber")
    company_id: str | None = Field(default=None, alias="CompanyID")
    is_cloud: bool | None = Field(default=None, alias="IsCloud")
    site_url: str | None = Field(default=None, alias="SiteUrl")
