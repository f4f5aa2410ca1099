"""One object per entity, offering exactly the verbs the API has for it.

The capability matrix is the official swagger's (AUTOTASK.md §4): none of these entities
can be deleted; ContractServices are written through ``Contracts/{id}/Services``;
ContractServiceAdjustments can only be created; units and billing codes are read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from prism_http.retry import Idempotency

from . import query as q
from .errors import InvalidResponseError, NotFoundError
from .models import (
    BillingCode,
    Company,
    Contract,
    ContractService,
    ContractServiceAdjustment,
    ContractServiceUnit,
    Entity,
    EntityFields,
    EntityInfo,
    FieldInfo,
    Service,
    UdfInfo,
    member,
)
from .query import MAX_RECORDS, Filter, Query, query

if TYPE_CHECKING:
    from .client import AutotaskClient

M = TypeVar("M", bound=Entity)
Changes = Mapping[str, Any] | Entity


def _as_query(q: Query | Filter | None, filters: Iterable[Filter]) -> Query:
    if isinstance(q, Query):
        return q.where(*filters) if filters else q
    return query(*([q] if q is not None else []), *filters)


def _item_id(data: Any) -> int | None:
    missing = object()
    value = member(data, "itemId", missing)
    if value is missing:
        raise InvalidResponseError("write answer without itemId")
    return int(value) if value is not None else None


def _changes(id: int, changes: Changes) -> dict[str, Any]:
    body = changes.to_wire(exclude={"id"}) if isinstance(changes, Entity) else dict(changes)
    body.pop("id", None)
    return {"id": id, **body}


@dataclass(frozen=True)
class RecordPage(Generic[M]):
    """One page of records, in ascending id order; ``has_more``: the API's ``pageDetails``
    names a next page."""

    items: list[M]
    has_more: bool

    @property
    def last_id(self) -> int | None:
        """Where the next page starts after (``page(after_id=...)``)."""
        ids = [r.id for r in self.items if r.id is not None]
        return max(ids) if ids else None


class ReadOnlyResource(Generic[M]):
    """Query, get, count and metadata of one entity."""

    model: type[M]

    def __init__(self, client: AutotaskClient) -> None:
        self._client = client

    @property
    def entity(self) -> str:
        return self.model.ENTITY

    def get(self, id: int) -> M | None:
        """The record, or None when it does not exist (404, or 200 with a null item)."""
        try:
            data = self._client.request("GET", f"{self.entity}/{int(id)}", endpoint=self.entity)
        except NotFoundError:
            return None
        item = member(data, "item")
        return self.model.model_validate(item) if item else None

    def query(self, q: Query | Filter | None = None, *filters: Filter) -> Iterator[M]:
        """Every matching record, across all pages."""
        for raw in self._client.query(self.entity, _as_query(q, filters)):
            yield self.model.model_validate(raw)

    def page(
        self,
        q: Query | Filter | None = None,
        *filters: Filter,
        size: int = MAX_RECORDS,
        after_id: int | None = None,
    ) -> RecordPage[M]:
        """At most ``size`` (1..500) matching records with an id above ``after_id``: one
        request (see :meth:`AutotaskClient.query_page`)."""
        wanted = replace(_as_query(q, filters), max_records=size)
        found = self._client.query_page(self.entity, wanted, after_id=after_id)
        return RecordPage(
            [self.model.model_validate(raw) for raw in found.items],
            has_more=found.next_page_url is not None,
        )

    def query_by_id_cursor(
        self, q: Query | Filter | None = None, *filters: Filter, page_size: int = MAX_RECORDS
    ) -> Iterator[M]:
        for raw in self._client.query_by_id_cursor(
            self.entity, _as_query(q, filters), page_size=page_size
        ):
            yield self.model.model_validate(raw)

    def first(self, q: Query | Filter | None = None, *filters: Filter) -> M | None:
        for item in self.query(q, *filters):
            return item
        return None

    def count(self, q: Query | Filter | None = None, *filters: Filter) -> int:
        return self._client.count(self.entity, _as_query(q, filters))

    def info(self) -> EntityInfo:
        data = self._client.request("GET", f"{self.entity}/entityInformation", endpoint=self.entity)
        return EntityInfo.model_validate(member(data, "info") or {})

    def fields(self) -> EntityFields:
        """Field metadata with live picklists (codes differ per Autotask instance)."""
        data = self._client.request(
            "GET", f"{self.entity}/entityInformation/fields", endpoint=self.entity
        )
        fields = [FieldInfo.model_validate(f) for f in member(data, "fields", [])]
        return EntityFields(self.entity, fields)

    def user_defined_fields(self) -> list[UdfInfo]:
        data = self._client.request(
            "GET", f"{self.entity}/entityInformation/userDefinedFields", endpoint=self.entity
        )
        return [UdfInfo.model_validate(f) for f in member(data, "fields", [])]


class WritableResource(ReadOnlyResource[M]):
    """Top-level entities with POST (create), PATCH (partial) and PUT (full replace)."""

    def create(self, record: M | Mapping[str, Any]) -> int:
        """Create and return the new id. Never retried: a lost answer may hide a record."""
        body = record.to_wire(exclude={"id"}) if isinstance(record, Entity) else dict(record)
        data = self._client.request(
            "POST", self.entity, json=body, idempotency=Idempotency.CREATE, endpoint=self.entity
        )
        new_id = _item_id(data)
        if new_id is None:
            raise InvalidResponseError(f"{self.entity} create answered without an id")
        return new_id

    def update(self, id: int, changes: Changes) -> int:
        """PATCH: only the given fields change. Safe to repeat, so it is retried."""
        data = self._client.request(
            "PATCH",
            self.entity,
            json=_changes(id, changes),
            idempotency=Idempotency.ABSOLUTE_UPDATE,
            endpoint=self.entity,
        )
        return _item_id(data) or id

    def replace(self, record: M) -> int:
        """PUT: writable fields left out are reset by the API. Prefer :meth:`update`."""
        if record.id is None:
            raise ValueError("replace needs the record's id")
        data = self._client.request(
            "PUT",
            self.entity,
            json=record.to_wire(),
            idempotency=Idempotency.ABSOLUTE_UPDATE,
            endpoint=self.entity,
        )
        return _item_id(data) or record.id


class Companies(WritableResource[Company]):
    model = Company


class Contracts(WritableResource[Contract]):
    model = Contract


class Services(WritableResource[Service]):
    model = Service


class BillingCodes(ReadOnlyResource[BillingCode]):
    model = BillingCode


class ContractServices(ReadOnlyResource[ContractService]):
    """Queried at the top level, written through the parent contract."""

    model = ContractService

    def for_contract(self, contract_id: int) -> Iterator[ContractService]:
        for raw in self._client.child_items(
            f"Contracts/{int(contract_id)}/Services", endpoint=self.entity
        ):
            yield self.model.model_validate(raw)

    def create(self, contract_id: int, record: ContractService | Mapping[str, Any]) -> int:
        body = record.to_wire(exclude={"id"}) if isinstance(record, Entity) else dict(record)
        body["contractID"] = int(contract_id)
        data = self._client.request(
            "POST",
            f"Contracts/{int(contract_id)}/Services",
            json=body,
            idempotency=Idempotency.CREATE,
            endpoint=self.entity,
        )
        new_id = _item_id(data)
        if new_id is None:
            raise InvalidResponseError("ContractServices create answered without an id")
        return new_id

    def update(self, contract_id: int, id: int, changes: Changes) -> int:
        """Only ``adjustedPrice`` and ``invoiceDescription`` are writable on update."""
        data = self._client.request(
            "PATCH",
            f"Contracts/{int(contract_id)}/Services",
            json=_changes(id, changes),
            idempotency=Idempotency.ABSOLUTE_UPDATE,
            endpoint=self.entity,
        )
        return _item_id(data) or id


class ContractServiceAdjustments:
    """Create-only: adjustments cannot be queried, updated or deleted.

    A unit change is relative, so repeating one double-counts: it is never retried, and
    the caller must re-read ContractServiceUnits before trying again.
    """

    entity = ContractServiceAdjustment.ENTITY

    def __init__(self, client: AutotaskClient) -> None:
        self._client = client

    def create(self, adjustment: ContractServiceAdjustment) -> int | None:
        """Post through the parent contract; returns the id the API gives (may be null)."""
        if adjustment.contract_id is None:
            raise ValueError("an adjustment needs contract_id")
        data = self._client.request(
            "POST",
            f"Contracts/{adjustment.contract_id}/ServiceAdjustments",
            json=adjustment.to_wire(exclude={"id"}),
            idempotency=Idempotency.CREATE,
            endpoint=self.entity,
        )
        return _item_id(data)

    def fields(self) -> EntityFields:
        data = self._client.request(
            "GET", f"{self.entity}/entityInformation/fields", endpoint=self.entity
        )
        return EntityFields(
            self.entity, [FieldInfo.model_validate(f) for f in member(data, "fields", [])]
        )


class ContractServiceUnits(ReadOnlyResource[ContractServiceUnit]):
    model = ContractServiceUnit

    def in_force(self, contract_service_id: int, day: date) -> ContractServiceUnit | None:
        """The row that bills ``day``: what an adjustment effective that day starts from.

        Autotask ends a row split by an adjustment *at* the adjustment's effective date, so
        two rows may cover a change day: the one with the latest start on or before ``day``
        is in force. One query (at most two rows), so the syncer can compute the unit change
        that makes the contract match an invoice before it writes (rules S5, S10).
        """
        rows = self.query(
            q.query(
                q.eq("contractServiceID", int(contract_service_id)),
                q.lte("startDate", day),
                q.gte("endDate", day),
            )
        )
        dated = [r for r in rows if r.start_date is not None]
        return max(dated, key=lambda r: (r.start_date, r.id or 0), default=None)

    def for_contract(self, contract_id: int) -> Iterator[ContractServiceUnit]:
        for raw in self._client.child_items(
            f"Contracts/{int(contract_id)}/ServiceUnits", endpoint=self.entity
        ):
            yield self.model.model_validate(raw)
