"""Organisations in GraphQL: one by id, the distributor's list of partners, onboarding a
partner with its first admin (`partners.py`), and an organisation's time zone."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import func, or_, select
from strawberry import relay

from prism_domain.access import Permission
from prism_graph.access import authenticated, requires, visible_partner_accounts
from prism_graph.catalogue.schema import like_pattern
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.common.pagination import (
    After,
    Before,
    First,
    Last,
    Page,
    SortKey,
    connection,
    paginate,
)
from prism_graph.context import Info
from prism_graph.identity.types import User
from prism_graph.organisations import partners, service
from prism_graph.organisations.inputs import (
    CreatePartnerInput,
    CreatePartnerPayload,
    SetTimeZoneInput,
    SetTimeZonePayload,
)
from prism_graph.organisations.types import Organisation, OrganisationConnection
from prism_tables import organisations as models


@strawberry.type
class OrganisationQueries:
    @strawberry.field(
        permission_classes=[authenticated()],
        description="One organisation by id: the distributor and your own partner for a "
        "partner's staff, any for the distributor's; null when there is none you may see.",
    )
    async def organisation(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The organisation's id.")],
    ) -> Organisation | None:
        pk = node_pk(id, "Organisation")
        row = await info.context.loaders.organisation_by_id.load(pk) if pk > 0 else None
        return Organisation.from_model(row) if row else None

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PARTNERS)],
        description="The distributor's partners, by name (the distributor's staff only; "
        "acting for a partner, that partner alone).",
    )
    async def partners(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only partners whose name or domain contains this text (any letter case).",
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> OrganisationConnection:
        org = models.Organisation
        stmt = select(org).where(visible_partner_accounts(info.context.scope))
        text = (search or "").strip().lower()
        if text:
            pattern = like_pattern(text)
            stmt = stmt.where(
                or_(
                    func.lower(org.name).like(pattern, escape="\\"),
                    func.lower(org.domain).like(pattern, escape="\\"),
                )
            )
        page: Page[models.Organisation] = await paginate(
            info.context.reader.scalars,
            stmt,
            SortKey((org.name, org.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(OrganisationConnection, page, Organisation.from_model, filtered=stmt)


@strawberry.type
class OrganisationMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PARTNERS)],
        description="Onboard a partner and invite its first admin, in one step (the "
        "distributor's admins only). The admin gets an e-mail with a single-use link to set a "
        "password. A partner name or domain already taken, or an admin address any user has, "
        "is refused (DUPLICATE) and nothing is created.",
    )
    async def create_partner(
        self,
        info: Info,
        input: Annotated[
            CreatePartnerInput,
            strawberry.argument(description="A new partner and its first admin."),
        ],
    ) -> CreatePartnerPayload:
        new = partners.parse_partner(
            name=input.name,
            domain=input.domain,
            time_zone=input.time_zone,
            admin_email=input.admin.email,
            admin_name=input.admin.display_name,
        )
        if isinstance(new, list):
            return CreatePartnerPayload(partner=None, admin=None, errors=user_errors(new))
        assert info.context.principal is not None
        result = await partners.create_partner(
            info.context.database,
            info.context.identity,
            info.context.principal,
            info.context.scope,
            new,
        )
        if isinstance(result, list):
            return CreatePartnerPayload(partner=None, admin=None, errors=user_errors(result))
        return CreatePartnerPayload(
            partner=Organisation.from_model(result.partner),
            admin=User.from_model(result.admin),
            errors=[],
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_ORGANISATION)],
        description=(
            'Set the time zone an organisation works in. Its "today" follows: the earliest '
            "start date of its orders and, for the distributor, when a month is over and can "
            "be billed. An unknown zone name is refused (INVALID on `input.timeZone`) and "
            "changes nothing."
        ),
    )
    async def set_time_zone(
        self,
        info: Info,
        input: Annotated[
            SetTimeZoneInput,
            strawberry.argument(description="An organisation and the time zone it works in."),
        ],
    ) -> SetTimeZonePayload:
        result = await service.set_time_zone(
            info.context.database,
            info.context.scope,
            node_pk(input.id, "Organisation"),
            input.time_zone,
        )
        if isinstance(result, list):
            return SetTimeZonePayload(organisation=None, errors=user_errors(result))
        return SetTimeZonePayload(organisation=Organisation.from_model(result), errors=[])
