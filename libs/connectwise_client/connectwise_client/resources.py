"""Typed collections: ``client.catalog.get(5)``, ``client.agreements.additions(7).create(...)``."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from prism_http.retry import Idempotency

from .conditions import Condition, eq
from .errors import InvalidResponseError
from .models import (
    Addition,
    Agreement,
    AgreementType,
    CatalogItem,
    Company,
    Entity,
    ProductSubcategory,
    ProductType,
)
from .patch import PatchOp, replacing

if TYPE_CHECKING:
    from .client import ConnectWiseClient, Page

T = TypeVar("T", bound=Entity)


class Collection(Generic[T]):
    MODEL: type[T]

    def __init__(self, client: ConnectWiseClient, path: str | None = None) -> None:
        self.client = client
        self.path = path or self.MODEL.PATH

    def _one(self, data: Any) -> T:
        if not isinstance(data, dict):
            raise InvalidResponseError(f"{self.path} answer is not an object")
        return self.MODEL.model_validate(data)

    def get(self, id: int, *, fields: builtins.list[str] | None = None) -> T:
        params = {"fields": ",".join(fields)} if fields else None
        return self._one(self.client.request("GET", f"{self.path}/{int(id)}", params=params))

    def list(
        self,
        conditions: Condition | str | None = None,
        *,
        fields: builtins.list[str] | None = None,
        after_id: int | None = None,
    ) -> Iterator[T]:
        """Every matching record in id order (forward-only paging)."""
        for item in self.client.iterate(
            self.path, conditions=conditions, fields=fields, after_id=after_id
        ):
            yield self._one(item)

    def page(
        self,
        conditions: Condition | str | None = None,
        *,
        page: int = 1,
        page_size: int = 25,
        order_by: str | None = None,
        fields: builtins.list[str] | None = None,
    ) -> tuple[builtins.list[T], Page]:
        raw = self.client.list_page(
            self.path,
            conditions=conditions,
            fields=fields,
            order_by=order_by,
            page=page,
            page_size=page_size,
        )
        return [self._one(i) for i in raw.items], raw

    def count(self, conditions: Condition | str | None = None) -> int:
        return self.client.count(self.path, conditions=conditions)


class Writable(Collection[T]):
    def create(self, record: T) -> T:
        """POST the fields set on ``record``; answers the record as stored. Never repeated
        on a lost answer: look for the record before writing again."""
        body = record.to_wire(exclude={"id", "info"})
        return self._one(
            self.client.request("POST", self.path, json=body, idempotency=Idempotency.CREATE)
        )

    def patch(self, id: int, changes: builtins.list[PatchOp] | T) -> T:
        """Apply JSON-patch operations (or ``replace`` each field set on a model)."""
        ops = changes if isinstance(changes, list) else replacing(changes)
        return self._one(
            self.client.request(
                "PATCH", f"{self.path}/{int(id)}", json=ops, idempotency=Idempotency.ABSOLUTE_UPDATE
            )
        )

    def delete(self, id: int) -> None:
        self.client.request(
            "DELETE", f"{self.path}/{int(id)}", idempotency=Idempotency.ABSOLUTE_UPDATE
        )


class Companies(Collection[Company]):
    MODEL = Company

    def by_identifier(self, identifier: str) -> Company | None:
        return next(iter(self.list(eq("identifier", identifier))), None)


class AgreementTypes(Collection[AgreementType]):
    MODEL = AgreementType


class Additions(Writable[Addition]):
    MODEL = Addition


class Agreements(Collection[Agreement]):
    MODEL = Agreement

    def additions(self, agreement_id: int) -> Additions:
        return Additions(self.client, Addition.PATH.format(agreement_id=int(agreement_id)))

    def of_company(self, company_id: int) -> Iterator[Agreement]:
        return self.list(eq("company/id", int(company_id)))


class Catalog(Writable[CatalogItem]):
    MODEL = CatalogItem

    def by_identifier(self, identifier: str) -> CatalogItem | None:
        return next(iter(self.list(eq("identifier", identifier))), None)


class ProductTypes(Collection[ProductType]):
    MODEL = ProductType


class ProductSubcategories(Collection[ProductSubcategory]):
    MODEL = ProductSubcategory
