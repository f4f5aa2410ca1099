"""The inputs and payloads of the organisations' mutations."""

from __future__ import annotations

import strawberry
from strawberry import relay

from prism_graph.common.errors import UserError, errors_field
from prism_graph.identity.types import User
from prism_graph.organisations.types import Organisation

TIME_ZONE = (
    'An IANA time zone name such as "Europe/London" or "America/Los_Angeles" (case-sensitive).'
)


@strawberry.input(description="An organisation and the time zone it works in.")
class SetTimeZoneInput:
    id: relay.GlobalID = strawberry.field(
        description="The organisation: a partner's admin names its own, the distributor's "
        "admin the distributor or any partner."
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description=f"{TIME_ZONE} Null (or left out) removes the organisation's own zone: a "
        "partner then follows the distributor's, the distributor works in UTC.",
    )


@strawberry.type(description="The outcome of setting an organisation's time zone.")
class SetTimeZonePayload:
    organisation: Organisation | None = strawberry.field(
        description="The organisation as it is now; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.input(description="The partner's first admin, who is invited by e-mail.")
class PartnerAdminInput:
    email: str = strawberry.field(
        description="Where the invitation goes, and the address the admin signs in with; no "
        "user may have it yet."
    )
    display_name: str = strawberry.field(description="The admin's name, shown to other people.")


@strawberry.input(description="A new partner and its first admin.")
class CreatePartnerInput:
    name: str = strawberry.field(
        description="The partner's name, unique among partners in any letter case; at most "
        "200 characters."
    )
    domain: str = strawberry.field(
        description="The partner's internet domain, e.g. contoso-partners.example, unique "
        "among partners: its customers' primary and billing contacts have addresses on it."
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description=f"{TIME_ZONE} Left out, the partner follows the distributor's zone.",
    )
    admin: PartnerAdminInput = strawberry.field(
        description="The partner's first admin: invited with a single-use link to set a "
        "password (later admins are invited with `inviteUser`)."
    )


@strawberry.type(description="The outcome of onboarding a partner.")
class CreatePartnerPayload:
    partner: Organisation | None = strawberry.field(
        description="The new partner; null when refused."
    )
    admin: User | None = strawberry.field(
        description="Its first admin, INVITED until they set a password through the mailed "
        "link; null when refused."
    )
    errors: list[UserError] = errors_field()
