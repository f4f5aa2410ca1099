"""The payloads of identity's mutations: the result, and `errors` when it was refused."""

from __future__ import annotations

from datetime import datetime

import strawberry

from prism_graph.common.errors import UserError, errors_field
from prism_graph.identity.types import ApiClient, User

BEARER = "Send as `Authorization: Bearer <token>`; null when refused."
EXPIRES = "When the access token stops working; null when refused."


@strawberry.type(description="The outcome of signing in: an access token, or why not.")
class SignInPayload:
    access_token: str | None = strawberry.field(description=BEARER)
    expires_at: datetime | None = strawberry.field(description=EXPIRES)
    user: User | None = strawberry.field(description="The signed-in user; null when refused.")
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of a change to a user.")
class UserPayload:
    user: User | None = strawberry.field(description="The user as it is now; null when refused.")
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of a password change: a new access token, or why not.")
class ChangePasswordPayload:
    access_token: str | None = strawberry.field(
        description="A new token: every earlier session, this one too, has been signed out. "
        "Null when refused."
    )
    expires_at: datetime | None = strawberry.field(description=EXPIRES)
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of signing out.")
class LogoutPayload:
    errors: list[UserError] = errors_field()


@strawberry.type(description="New API credentials, with the secret shown this once.")
class CreateApiClientPayload:
    api_client: ApiClient | None = strawberry.field(
        description="The new credentials; null when refused."
    )
    client_secret: str | None = strawberry.field(
        description="Shown once, now: store it. Prism keeps only a hash. Null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of a change to an API client.")
class ApiClientPayload:
    api_client: ApiClient | None = strawberry.field(
        description="The API client as it is now; null when refused."
    )
    errors: list[UserError] = errors_field()
