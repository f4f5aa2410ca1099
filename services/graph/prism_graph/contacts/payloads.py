"""The payloads of the contacts' mutations: the result, and `errors` when it was refused."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from prism_graph.common.errors import UserError, errors_field
from prism_graph.contacts.types import AccountContact, CustomerContact


@strawberry.type(description="The outcome of a change to a contact by type.")
class AccountContactPayload:
    contact: AccountContact | None = strawberry.field(
        description="The contact as it is now; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of deleting a contact by type.")
class DeleteAccountContactPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        description="The id of the deleted contact; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of a change to a customer-account contact.")
class CustomerContactPayload:
    contact: CustomerContact | None = strawberry.field(
        description="The contact as it is now; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of deleting a customer-account contact.")
class DeleteCustomerContactPayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        description="The id of the deleted contact; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of opening a verification link.")
class VerifyCustomerContactPayload:
    verified: bool = strawberry.field(
        description="True when the contact's address is now verified."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The answer to a request for a sign-in link.")
class RequestContactSignInPayload:
    message: str = strawberry.field(
        description="The same answer whether or not the address belongs to a contact."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of signing in with a contact's link.")
class ContactSignInPayload:
    access_token: str | None = strawberry.field(
        description="Send as `Authorization: Bearer <token>`; null when refused."
    )
    expires_at: datetime | None = strawberry.field(
        description="When the access token stops working; null when refused."
    )
    contact: CustomerContact | None = strawberry.field(
        description="The signed-in contact; null when refused."
    )
    errors: list[UserError] = errors_field()


@strawberry.type(description="The outcome of mailing a notice to an account's contacts.")
class NotificationPayload:
    recipients: int = strawberry.field(description="Mails newly enqueued, one per contact.")
    errors: list[UserError] = errors_field()
