"""Typed entities and API envelopes (pydantic v2).

Python names are snake_case; wire names are Autotask's camelCase with ``ID`` upper-cased
(``billing_code_id`` <-> ``billingCodeID``). Unknown fields are kept, since Autotask adds
fields over time (SW24 -> SW26) and a read-modify-write must not drop them. Money is
``Decimal``; date-times are UTC-aware; fields that hold a calendar day are ``Day``
(``date``), sent at midday UTC and read as the date they name (see ``dates``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, model_validator
from pydantic.alias_generators import to_camel

from .dates import format_datetime, format_day, parse_datetime, parse_day


def wire_name(name: str) -> str:
    return re.sub(r"Id$", "ID", to_camel(name))


def _to_datetime(value: Any) -> Any:
    if isinstance(value, str):
        return parse_datetime(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        # An instant given as a day: that day's first instant in UTC.
        return datetime.combine(value, time.min, tzinfo=UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime is ambiguous; give it a timezone")
    return value


def _to_day(value: Any) -> Any:
    if isinstance(value, str):
        return parse_day(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime is ambiguous; give a date")
        return value.date()  # the date it names, in its own zone
    return value


#: A real instant (createDate, lastModifiedDateTime, ...).
UtcDatetime = Annotated[
    datetime,
    BeforeValidator(_to_datetime),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
]
#: A calendar day (a contract's dates, an adjustment's effective date, a unit row's dates).
Day = Annotated[
    date,
    BeforeValidator(_to_day),
    PlainSerializer(format_day, return_type=str, when_used="json"),
]
Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


def member(data: Any, key: str, default: Any = None) -> Any:
    """``data[key]`` matching the key case-insensitively.

    The two official swaggers disagree on casing (SW24 PascalCase, SW26 camelCase) and
    Autotask treats names case-insensitively, so answers are read the same way.
    """
    if not isinstance(data, dict):
        return default
    if key in data:
        return data[key]
    wanted = key.lower()
    for k, v in data.items():
        if isinstance(k, str) and k.lower() == wanted:
            return v
    return default


_WIRE_NAMES: dict[type[BaseModel], dict[str, str]] = {}


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=wire_name,
        populate_by_name=True,
        extra="allow",
        frozen=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _names_case_insensitively(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        names = _WIRE_NAMES.get(cls)
        if names is None:
            names = {(f.alias or n).lower(): f.alias or n for n, f in cls.model_fields.items()}
            _WIRE_NAMES[cls] = names
        return {names.get(k.lower(), k) if isinstance(k, str) else k: v for k, v in data.items()}

    def to_wire(self, *, exclude: set[str] | None = None) -> dict[str, Any]:
        """The fields that were set, as the API spells them."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=exclude)


class UserDefinedField(WireModel):
    name: str
    value: str | None = None


class Entity(WireModel):
    """An Autotask record. ``ENTITY`` is its REST path segment."""

    ENTITY: ClassVar[str] = ""
    id: int | None = None
    user_defined_fields: list[UserDefinedField] | None = None


class Company(Entity):
    ENTITY: ClassVar[str] = "Companies"
    company_name: str | None = None
    company_number: str | None = None
    company_type: int | None = None
    phone: str | None = None
    owner_resource_id: int | None = None
    is_active: bool | None = None
    parent_company_id: int | None = None
    create_date: UtcDatetime | None = None
    last_activity_date: UtcDatetime | None = None


class Contract(Entity):
    ENTITY: ClassVar[str] = "Contracts"
    company_id: int | None = None
    contract_name: str | None = None
    contract_number: str | None = None
    contract_type: int | None = None
    contract_category: int | None = None
    contract_period_type: int | None = None
    status: int | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    description: str | None = None
    is_default_contract: bool | None = None
    last_modified_date_time: UtcDatetime | None = None


class Service(Entity):
    ENTITY: ClassVar[str] = "Services"
    name: str | None = None
    description: str | None = None
    invoice_description: str | None = None
    billing_code_id: int | None = None
    period_type: int | None = None
    unit_price: Money | None = None
    unit_cost: Money | None = None
    markup_rate: Money | None = None
    is_active: bool | None = None
    vendor_company_id: int | None = None
    service_level_agreement_id: int | None = None
    sku: str | None = None
    create_date: UtcDatetime | None = None
    last_modified_date: UtcDatetime | None = None


class ContractService(Entity):
    ENTITY: ClassVar[str] = "ContractServices"
    contract_id: int | None = None
    service_id: int | None = None
    unit_price: Money | None = None
    unit_cost: Money | None = None
    adjusted_price: Money | None = None
    internal_currency_unit_price: Money | None = None
    internal_currency_adjusted_price: Money | None = None
    internal_description: str | None = None
    invoice_description: str | None = None
    quote_item_id: int | None = None


class ContractServiceAdjustment(Entity):
    ENTITY: ClassVar[str] = "ContractServiceAdjustments"
    contract_id: int | None = None
    contract_service_id: int | None = None
    service_id: int | None = None
    effective_date: Day | None = None
    unit_change: int | None = None
    adjusted_unit_price: Money | None = None
    adjusted_unit_cost: Money | None = None
    allow_repeat_service: bool | None = None
    quote_item_id: int | None = None


class ContractServiceUnit(Entity):
    ENTITY: ClassVar[str] = "ContractServiceUnits"
    contract_id: int | None = None
    contract_service_id: int | None = None
    service_id: int | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    units: int | None = None
    price: Money | None = None
    cost: Money | None = None
    internal_currency_price: Money | None = None
    approve_and_post_date: UtcDatetime | None = None
    vendor_company_id: int | None = None


class BillingCode(Entity):
    ENTITY: ClassVar[str] = "BillingCodes"
    name: str | None = None
    description: str | None = None
    external_number: str | None = None
    billing_code_type: int | None = None
    use_type: int | None = None
    is_active: bool | None = None
    is_excluded_from_new_contracts: bool | None = None
    unit_price: Money | None = None
    unit_cost: Money | None = None


# --- API envelopes and metadata -----------------------------------------------------------


class ZoneInfo(WireModel):
    zone_name: str | None = None
    url: str
    web_url: str | None = None
    ci: int | None = None


class ThresholdInfo(WireModel):
    external_request_threshold: int
    request_threshold_timeframe: int
    current_timeframe_request_count: int

    @property
    def remaining(self) -> int:
        return max(0, self.external_request_threshold - self.current_timeframe_request_count)


class VersionInfo(WireModel):
    major_version: str | None = None
    minor_version: str | None = None
    build: str | None = None
    customer_type: str | None = None


class PageDetails(WireModel):
    count: int = 0
    request_count: int | None = None
    prev_page_url: str | None = None
    next_page_url: str | None = None


class EntityInfo(WireModel):
    name: str | None = None
    can_create: bool = False
    can_delete: bool = False
    can_query: bool = False
    can_update: bool = False
    has_user_defined_fields: bool = False
    supports_webhook_callouts: bool = False


class PicklistValue(WireModel):
    value: str
    label: str
    is_default_value: bool = False
    sort_order: int | None = None
    parent_value: str | None = None
    is_active: bool = True
    is_system: bool = False


class FieldInfo(WireModel):
    name: str
    data_type: str | None = None
    length: int = 0
    is_required: bool = False
    is_read_only: bool = False
    is_queryable: bool = True
    is_reference: bool = False
    reference_entity_type: str | None = None
    is_pick_list: bool = False
    picklist_values: list[PicklistValue] | None = None
    picklist_parent_value_field: str | None = None


class UdfInfo(WireModel):
    name: str
    label: str | None = None
    type: str | None = None
    length: int = 0
    is_required: bool = False
    is_pick_list: bool = False
    picklist_values: list[PicklistValue] | None = None


class EntityFields:
    """Field metadata of one entity; names and picklist labels matched case-insensitively.

    Picklist codes differ per Autotask instance, so they are always read live from here.
    """

    def __init__(self, entity: str, fields: list[FieldInfo]) -> None:
        self.entity = entity
        self.fields = fields
        self._by_name = {f.name.lower(): f for f in fields}

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name

    def field(self, name: str) -> FieldInfo:
        try:
            return self._by_name[name.lower()]
        except KeyError:
            raise KeyError(f"{self.entity} has no field {name!r}") from None

    def picklist(self, name: str, *, active_only: bool = True) -> list[PicklistValue]:
        values = self.field(name).picklist_values or []
        return [v for v in values if v.is_active or not active_only]

    def value_for(self, name: str, label: str) -> int:
        """The picklist code for ``label`` (case-insensitive), e.g. useType "Recurring ..."."""
        wanted = label.strip().lower()
        for v in self.picklist(name, active_only=False):
            if v.label.strip().lower() == wanted:
                return int(v.value)
        raise KeyError(f"{self.entity}.{name} has no picklist label {label!r}")

    def label_for(self, name: str, value: int | str) -> str | None:
        for v in self.picklist(name, active_only=False):
            if v.value == str(value):
                return v.label
        return None

    def max_length(self, name: str) -> int | None:
        length = self.field(name).length
        return length or None

    def fit(self, name: str, value: str | None) -> str | None:
        """``value`` cut to the field's length (rule S3 truncates descriptions)."""
        limit = self.max_length(name)
        if value is None or limit is None:
            return value
        return value[:limit]


__all__ = [
    "BillingCode",
    "Company",
    "Contract",
    "ContractService",
    "ContractServiceAdjustment",
    "ContractServiceUnit",
    "Day",
    "Entity",
    "EntityFields",
    "EntityInfo",
    "FieldInfo",
    "Money",
    "PageDetails",
    "PicklistValue",
    "Service",
    "ThresholdInfo",
    "UdfInfo",
    "UserDefinedField",
    "UtcDatetime",
    "VersionInfo",
    "WireModel",
    "ZoneInfo",
    "member",
]
