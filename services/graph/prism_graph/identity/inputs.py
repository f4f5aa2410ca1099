"""The inputs of identity's mutations: one `input` argument per mutation (docs/api.md)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from prism_domain.access import UserRole as DomainUserRole
from prism_graph.identity.types import UserRole


@strawberry.input(description="An e-mail address and password to sign in with.")
class SignInInput:
    email: str = strawberry.field(description="The user's e-mail address (any letter case).")
    password: str = strawberry.field(description="The user's password.")


@strawberry.input(description="The token of an invitation link and the password to set.")
class AcceptInvitationInput:
    token: str = strawberry.field(
        description="The `token` parameter of the link in the invitation e-mail."
    )
    password: str = strawberry.field(
        description="The new password: at least 12 characters, not the e-mail address."
    )


@strawberry.input(description="Who to invite into the staff of an organisation.")
class InviteUserInput:
    email: str = strawberry.field(
        description="Where the invitation goes, and the address the user signs in with."
    )
    display_name: str = strawberry.field(description="The name shown to other people.")
    role: UserRole = strawberry.field(  # type: ignore[valid-type]
        default=DomainUserRole.MEMBER, description="What the user may do; MEMBER by default."
    )
    partner_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="Distributor staff only: the partner (Organisation id) to invite into; "
        "left out, the user joins the distributor (or the partner acted for).",
    )


@strawberry.input(description="A user, named by id.")
class UserIdInput:
    id: relay.GlobalID = strawberry.field(description="The user's id.")


@strawberry.input(description="The invited user to send a fresh invitation link to.")
class ResendInvitationInput(UserIdInput):
    pass


@strawberry.input(description="The user to deactivate.")
class DeactivateUserInput(UserIdInput):
    pass


@strawberry.input(description="The deactivated user to let back in.")
class ReactivateUserInput(UserIdInput):
    pass


@strawberry.input(description="A user and the role to give them.")
class SetUserRoleInput:
    id: relay.GlobalID = strawberry.field(description="The user's id.")
    role: UserRole = strawberry.field(  # type: ignore[valid-type]
        description="The new role."
    )


@strawberry.input(description="The current password and the one to replace it.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password in use now.")
    new_password: str = strawberry.field(
        description="The new password: at least 12 characters, not the e-mail address."
    )


@strawberry.input(description="What to call new API credentials, and whose they are.")
class CreateApiClientInput:
    name: str = strawberry.field(description='What the credentials are for, e.g. "Billing export".')
    partner_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="Distributor staff only: the partner (Organisation id) the credentials "
        "are for; left out, the caller's own organisation (or the partner acted for).",
    )


@strawberry.input(description="The API client to revoke.")
class RevokeApiClientInput:
    id: relay.GlobalID = strawberry.field(description="The API client's id.")
