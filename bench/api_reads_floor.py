"""The benchmark's floor: stock strawberry executing the same document over the same rows,
in memory, with no resolvers, database or HTTP (see `api_reads.py`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry


@strawberry.type(name="Tenant")
class FloorTenant:
    id: strawberry.ID
    domain: str


@strawberry.type(name="CustomerContact")
class FloorContact:
    id: strawberry.ID
    display_name: str
    email: str
    role: str


@strawberry.type(name="CustomerSubscription")
class FloorSubscription:
    id: strawberry.ID
    sku: str
    billing_term: str
    start_date: date
    quantity: int
    cancelled_from: date | None


@strawberry.type(name="Customer")
class FloorCustomer:
    id: strawberry.ID
    name: str
    domain: str | None
    status: str
    tenants: list[FloorTenant]
    contacts: list[FloorContact]
    subscriptions: list[FloorSubscription]


@strawberry.type(name="CustomerEdge")
class FloorEdge:
    node: FloorCustomer


@strawberry.type(name="CustomerConnection")
class FloorConnection:
    edges: list[FloorEdge]


@strawberry.type(name="Query")
class FloorQuery:
    @strawberry.field
    def customers(self, info: strawberry.Info, first: int) -> FloorConnection:
        page: list[FloorCustomer] = info.context["page"]
        return FloorConnection(edges=[FloorEdge(node=c) for c in page[:first]])


def floor_objects(body: dict[str, Any]) -> list[FloorCustomer]:
    """Strawberry's floor runs the same document over the baseline's rows, already in memory,
    with a schema of the same shape and no resolvers, no database and no HTTP."""

    def snake(values: dict[str, Any]) -> dict[str, Any]:
        return {
            "".join("_" + ch.lower() if ch.isupper() else ch for ch in k): v
            for k, v in values.items()
        }

    def subscription(values: dict[str, Any]) -> FloorSubscription:
        fields = snake(values)
        fields["start_date"] = date.fromisoformat(fields["start_date"])
        return FloorSubscription(**fields)

    return [
        FloorCustomer(
            id=n["id"],
            name=n["name"],
            domain=n["domain"],
            status=n["status"],
            tenants=[FloorTenant(**t) for t in n["tenants"]],
            contacts=[FloorContact(**snake(k)) for k in n["contacts"]],
            subscriptions=[subscription(s) for s in n["subscriptions"]],
        )
        for n in (e["node"] for e in body["data"]["customers"]["edges"])
    ]
