"""The inputs of the contacts' mutations: one `input` argument per mutation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry import relay

from prism_graph.contacts.types import ContactRole, ContactType

# Contacts by type ---------------------------------------------------------------------------


@strawberry.input(description="A new contact of an account, and the first type it is on.")
class AddAccountContactInput:
    account_id: relay.GlobalID = strawberry.field(
        description="The account: a partner (Organisation id) or a Customer id."
    )
    first_name: str = strawberry.field(description="At most 100 characters.")
    last_name: str = strawberry.field(description="At most 100 characters.")
    email: str = strawberry.field(description="Unique within the account.")
    type: ContactType = strawberry.field(  # type: ignore[valid-type]
        description="The contact type to attach the new contact to."
    )


@strawberry.input(description="A contact by type and one contact type.")
class ContactTypeInput:
    contact_id: relay.GlobalID = strawberry.field(description="The AccountContact's id.")
    type: ContactType = strawberry.field(  # type: ignore[valid-type]
        description="The contact type to attach it to or remove it from."
    )


@strawberry.input(description="New name or address of a contact by type; what is left out stays.")
class UpdateAccountContactInput:
    id: relay.GlobalID = strawberry.field(description="The AccountContact's id.")
    first_name: str | None = strawberry.field(
        default=None, description="The new first name; null or left out keeps it."
    )
    last_name: str | None = strawberry.field(
        default=None, description="The new last name; null or left out keeps it."
    )
    email: str | None = strawberry.field(
        default=None,
        description="The new address, unique within the account; null or left out keeps it.",
    )


@strawberry.input(description="The contact by type to delete.")
class DeleteAccountContactInput:
    id: relay.GlobalID = strawberry.field(
        description="The AccountContact's id; it must be on no contact type any more."
    )


# Customer-account contacts ------------------------------------------------------------------


@strawberry.input(description="A new contact of a customer's account.")
class AddCustomerContactInput:
    customer_id: relay.GlobalID = strawberry.field(description="The customer's id.")
    display_name: str = strawberry.field(description="At most 200 characters.")
    email: str = strawberry.field(description="Unique within the customer's account.")
    send_verification_email: bool = strawberry.field(
        default=True,
        description="Mail the contact a single-use, expiring link to verify its address "
        "(the default).",
    )


@strawberry.input(
    description="New name or address of a customer-account contact; what is left out stays."
)
class UpdateCustomerContactInput:
    id: relay.GlobalID = strawberry.field(description="The CustomerContact's id.")
    display_name: str | None = strawberry.field(
        default=None, description="The new name; null or left out keeps it."
    )
    email: str | None = strawberry.field(
        default=None,
        description="The new address. A different address is unverified until the contact "
        "opens the verification link mailed to it; its earlier links stop working and its "
        "sessions end. Null or left out keeps it.",
    )


@strawberry.input(description="A contact and the role to give it.")
class SetCustomerContactRoleInput:
    id: relay.GlobalID = strawberry.field(description="The CustomerContact's id.")
    role: ContactRole = strawberry.field(  # type: ignore[valid-type]
        description="The new role; PRIMARY moves from the current primary to this contact."
    )


@strawberry.input(description="The customer-account contact to delete.")
class DeleteCustomerContactInput:
    id: relay.GlobalID = strawberry.field(description="The CustomerContact's id.")
    confirm: bool = strawberry.field(
        default=False,
        description="Required (true) to delete a contact holding the BILLING or TECHNICAL role.",
    )


@strawberry.input(description="The unverified contact to mail a fresh verification link.")
class ResendCustomerContactVerificationInput:
    id: relay.GlobalID = strawberry.field(description="The CustomerContact's id.")


@strawberry.input(description="The token of a verification link.")
class VerifyCustomerContactInput:
    token: str = strawberry.field(
        description="The `token` parameter of the link in the verification e-mail."
    )


@strawberry.input(description="The address a sign-in link is asked for.")
class RequestContactSignInInput:
    email: str = strawberry.field(description="The contact's e-mail address.")


@strawberry.input(description="The token of a sign-in link.")
class SignInWithContactLinkInput:
    token: str = strawberry.field(
        description="The `token` parameter of the link in the sign-in e-mail."
    )


# Notices ------------------------------------------------------------------------------------


@strawberry.input(description="A statement-of-account notice for an account's STATEMENT contacts.")
class StatementDueInput:
    account_id: relay.GlobalID = strawberry.field(
        description="The account: a partner (Organisation id) or a Customer id."
    )
    statement_date: date = strawberry.field(description="The date of the statement.")
    amount_due: Decimal = strawberry.field(
        description="The outstanding amount, in `currency`; not negative."
    )
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")
    due_date: date = strawberry.field(description="When the amount is due.")
    link: str | None = strawberry.field(
        default=None,
        description="An http(s) link to the statement, shown in the mail; none by default.",
    )


@strawberry.input(description="A request to an account's USAGE_REPORTING contacts.")
class UsageReportRequestInput:
    account_id: relay.GlobalID = strawberry.field(
        description="The account: a partner (Organisation id) or a Customer id."
    )
    program_name: str = strawberry.field(
        description="The program the usage is for, e.g. SPLA; at most 200 characters."
    )
    period_start: date = strawberry.field(description="The first day of the usage period.")
    period_end: date = strawberry.field(
        description="The last day of the usage period; not before its first."
    )
    due_date: date = strawberry.field(description="When the report is due.")
    link: str | None = strawberry.field(
        default=None, description="Where to submit the report; the portal's page by default."
    )
