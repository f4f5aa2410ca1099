"""Organisations in GraphQL: the mutation of their own settings (the time zone)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from prism_domain.access import Permission
from prism_graph.access import requires
from prism_graph.common.errors import UserError, user_errors
from prism_graph.common.ids import node_pk
from prism_graph.context import Info
from prism_graph.organisations import service
from prism_graph.organisations.types import Organisation


@strawberry.input
class SetTimeZoneInput:
    id: relay.GlobalID = strawberry.field(
        description="The organisation: a partner's admin names its own, the distributor's "
        "admin the distributor or any partner."
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description=(
            'An IANA time zone name such as "Europe/London" or "America/Los_Angeles" '
            "(case-sensitive). Null (or left out) removes the organisation's own zone: a partner then "
            "follows the distributor's, the distributor works in UTC."
        ),
    )


@strawberry.type
class SetTimeZonePayload:
    organisation: Organisation | None
    errors: list[UserError]


@strawberry.type
class OrganisationMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_ORGANISATION)],
        description=(
            'Set the time zone an organisation works in. Its "today" follows: the earliest '
            "start date of its orders and, for the distributor, when a month is over and can "
            "be billed. An unknown zone name is refused (INVALID on `input.timeZone`) and "
            "changes nothing."
        ),
    )
    async def set_time_zone(self, info: Info, input: SetTimeZoneInput) -> SetTimeZonePayload:
        result = await service.set_time_zone(
            info.context.database,
            info.context.scope,
            node_pk(input.id, "Organisation"),
            input.time_zone,
        )
        if isinstance(result, list):
            return SetTimeZonePayload(organisation=None, errors=user_errors(result))
        return SetTimeZonePayload(organisation=Organisation.from_model(result), errors=[])
