from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, false, select, true
from strawberry import relay

from prism_domain.access import Permission, Scope
from prism_graph.access import requires
from prism_graph.common.connections import Counted
from prism_graph.common.ids import decode_id
from prism_graph.common.pagination import (
    After,
    First,
    Page,
    SortKey,
    connection,
    paginate,
)
from prism_graph.context import Info
from prism_tables.audit import AuditEvent as AuditEventRow


@strawberry.type(description="One mutation: who, acting for whom, what, on what, when, outcome.")
class AuditEvent(relay.Node):
    id: relay.NodeID[int]
    occurred_at: datetime = strawberry.field(description="When the mutation ran.")
    actor_kind: str = strawberry.field(
        description="Who made it: USER (a staff user), API_CLIENT, CONTACT (a customer "
        "account's contact) or ANONYMOUS (e.g. a sign-in or an e-mailed link)."
    )
    actor_label: str = strawberry.field(
        description="The actor's name as shown to people, e.g. the user's e-mail address; for "
        "an anonymous caller, the e-mail address it gave, if any."
    )
    acting_for_partner: bool = strawberry.field(
        description="True when distributor staff made it while acting for the partner."
    )
    operation: str = strawberry.field(
        description="The mutation's name as in the schema, e.g. createPartner."
    )
    target: str | None = strawberry.field(
        description="The global id of what the mutation acted on (usable with `node(id:)`); "
        "null when there is none, e.g. a refused creation."
    )
    outcome: str = strawberry.field(description="SUCCESS, REFUSED (input errors), DENIED or ERROR.")
    detail: str | None = strawberry.field(
        description="For REFUSED, each error as `field: CODE`; for DENIED, the reason; for "
        "ERROR, the kind of failure. Passwords, tokens and secrets are never recorded."
    )

    @classmethod
    def from_model(cls, row: AuditEventRow) -> AuditEvent:
        return cls(
            id=row.id,
            occurred_at=row.occurred_at,
            actor_kind=row.actor_kind,
            actor_label=row.actor_label,
            acting_for_partner=row.partner_id is not None
            and row.actor_organisation_id != row.partner_id,
            operation=row.operation,
            target=row.target,
            outcome=row.outcome,
            detail=row.detail,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[AuditEvent | None]:
        ids = [decode_id(i) for i in node_ids]
        rows = await info.context.reader.scalars(
            select(AuditEventRow).where(
                AuditEventRow.id.in_(ids), visible_audit(info.context.scope)
            )
        )
        found = {r.id: r for r in rows}
        return [cls.from_model(found[i]) if i in found else None for i in ids]


@strawberry.type(description="A page of the audit log, newest first.")
class AuditEventConnection(Counted, relay.Connection[AuditEvent]):
    pass


def visible_audit(scope: Scope | None) -> ColumnElement[bool]:
    if scope is None or scope.customer_id is not None:
        return false()
    if scope.all_partners:
        return true()
    return AuditEventRow.partner_id == scope.partner_id


@strawberry.type
class AuditQueries:
    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_AUDIT_LOG)],
        description="The audit log, newest first: every mutation of the caller's partner "
        "(the distributor's staff: of every partner and their own; acting for a partner, that "
        "partner's).",
    )
    async def audit_log(
        self,
        info: Info,
        operation: Annotated[
            str | None,
            strawberry.argument(
                description="Only the records of this mutation, by its name in the schema "
                "(e.g. createPartner)."
            ),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> AuditEventConnection:
        stmt = select(AuditEventRow).where(visible_audit(info.context.scope))
        if operation:
            stmt = stmt.where(AuditEventRow.operation == operation)
        page: Page[AuditEventRow] = await paginate(
            info.context.reader.scalars,
            stmt,
            SortKey((AuditEventRow.occurred_at, AuditEventRow.id), descending=True),
            first=first,
            after=after,
        )
        return connection(AuditEventConnection, page, AuditEvent.from_model, filtered=stmt)
