"""Mutations of contacts by type (the people of a partner or customer account who get its
billing, statement and usage-reporting notices), and the notices staff send them."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from prism_domain.access import Permission, Scope
from prism_domain.contacts import (
    PROGRAM_NAME_MAX_LENGTH,
    check_amount,
    check_period,
    clean_currency,
    clean_link,
)
from prism_domain.contacts import ContactType as DomainContactType
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.text import clean_name
from prism_graph.access import requires
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.contacts import by_type, edits, notify
from prism_graph.contacts.accounts import AccountRef
from prism_graph.contacts.config import contacts_config
from prism_graph.contacts.inputs import (
    AddAccountContactInput,
    ContactTypeInput,
    DeleteAccountContactInput,
    StatementDueInput,
    UpdateAccountContactInput,
    UsageReportRequestInput,
)
from prism_graph.contacts.payloads import (
    AccountContactPayload,
    DeleteAccountContactPayload,
    NotificationPayload,
)
from prism_graph.contacts.types import AccountContact
from prism_graph.context import Info
from prism_tables.contacts import AccountContact as AccountContactRow

NO_ACCOUNT = [FieldError("accountId", ErrorCode.NOT_FOUND, "No such partner or customer account.")]


def account_ref(value: relay.GlobalID) -> AccountRef | None:
    """The account a global id names: a partner (Organisation) or a Customer."""
    if (pk := node_pk(value, "Organisation")) >= 0:
        return AccountRef(organisation_id=pk)
    if (pk := node_pk(value, "Customer")) >= 0:
        return AccountRef(customer_id=pk)
    return None


def scope_of(info: Info) -> Scope:
    scope = info.context.scope
    assert scope is not None  # the permission classes let no anonymous caller in
    return scope


def _payload(result: AccountContactRow | list[FieldError]) -> AccountContactPayload:
    if isinstance(result, list):
        return AccountContactPayload(contact=None, errors=user_errors(result))
    return AccountContactPayload(contact=AccountContact.from_model(result), errors=[])


@strawberry.type
class AccountContactMutations:
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description="Add a contact (first name, last name, e-mail) to an account, on one "
        "contact type; `addContactToType` puts it on more.",
    )
    async def add_account_contact(
        self,
        info: Info,
        input: Annotated[
            AddAccountContactInput,
            strawberry.argument(
                description="A new contact of an account, and the first type it is on."
            ),
        ],
    ) -> AccountContactPayload:
        account = account_ref(input.account_id)
        if account is None:
            return _payload(NO_ACCOUNT)
        return _payload(
            await by_type.add_contact(
                info.context.database,
                scope_of(info),
                account,
                first_name=input.first_name,
                last_name=input.last_name,
                email=input.email,
                contact_type=DomainContactType(input.type),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description="Attach an existing contact to one more contact type.",
    )
    async def add_contact_to_type(
        self,
        info: Info,
        input: Annotated[
            ContactTypeInput,
            strawberry.argument(description="A contact by type and one contact type."),
        ],
    ) -> AccountContactPayload:
        return _payload(
            await by_type.add_to_type(
                info.context.database,
                scope_of(info),
                node_pk(input.contact_id, "AccountContact"),
                DomainContactType(input.type),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "Remove a contact from one contact type (only that one). The last contact of a "
            "type cannot be removed (LAST_CONTACT_OF_TYPE): add another to the type first."
        ),
    )
    async def remove_contact_from_type(
        self,
        info: Info,
        input: Annotated[
            ContactTypeInput,
            strawberry.argument(description="A contact by type and one contact type."),
        ],
    ) -> AccountContactPayload:
        return _payload(
            await by_type.remove_from_type(
                info.context.database,
                scope_of(info),
                node_pk(input.contact_id, "AccountContact"),
                DomainContactType(input.type),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description="Change a contact by type's name or e-mail address; its types stay.",
    )
    async def update_account_contact(
        self,
        info: Info,
        input: Annotated[
            UpdateAccountContactInput,
            strawberry.argument(
                description="New name or address of a contact by type; what is left out stays."
            ),
        ],
    ) -> AccountContactPayload:
        return _payload(
            await edits.update_account_contact(
                info.context.database,
                scope_of(info),
                node_pk(input.id, "AccountContact"),
                first_name=input.first_name,
                last_name=input.last_name,
                email=input.email,
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description="Delete a contact by type that is on no contact type any more; refused "
        "(NOT_ALLOWED) while it is still on one: remove it from each type first.",
    )
    async def delete_account_contact(
        self,
        info: Info,
        input: Annotated[
            DeleteAccountContactInput,
            strawberry.argument(description="The contact by type to delete."),
        ],
    ) -> DeleteAccountContactPayload:
        result = await edits.delete_account_contact(
            info.context.database, scope_of(info), node_pk(input.id, "AccountContact")
        )
        if isinstance(result, list):
            return DeleteAccountContactPayload(deleted_id=None, errors=user_errors(result))
        return DeleteAccountContactPayload(
            deleted_id=relay.GlobalID("AccountContact", str(result)), errors=[]
        )

    # Notices, triggered by staff ---------------------------------------------------------

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Mail a statement-of-account notice to the account's STATEMENT contacts.",
    )
    async def send_statement_due_notice(
        self,
        info: Info,
        input: Annotated[
            StatementDueInput,
            strawberry.argument(
                description="A statement-of-account notice for an account's STATEMENT contacts."
            ),
        ],
    ) -> NotificationPayload:
        errors: list[FieldError] = []
        currency = clean_currency(input.currency, field="currency", errors=errors)
        check_amount(input.amount_due, field="amountDue", errors=errors)
        link = clean_link(input.link, field="link", errors=errors)
        account = account_ref(input.account_id)
        if account is None:
            errors.extend(NO_ACCOUNT)
        if errors or account is None:
            return NotificationPayload(recipients=0, errors=user_errors(errors))
        config = contacts_config(info.context)
        result = await notify.notify_visible_account(
            info.context.database,
            scope_of(info),
            account,
            lambda session: notify.notify_statement_due(
                session,
                account,
                statement_date=input.statement_date,
                amount_due=input.amount_due,
                currency=currency,
                due_date=input.due_date,
                link=link,
                wake=config.wake,
            ),
        )
        if isinstance(result, list):
            return NotificationPayload(recipients=0, errors=user_errors(result))
        return NotificationPayload(recipients=result, errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="Ask the account's USAGE_REPORTING contacts to submit a usage report.",
    )
    async def request_usage_report(
        self,
        info: Info,
        input: Annotated[
            UsageReportRequestInput,
            strawberry.argument(description="A request to an account's USAGE_REPORTING contacts."),
        ],
    ) -> NotificationPayload:
        errors: list[FieldError] = []
        program = clean_name(
            input.program_name,
            field="programName",
            label="Program name",
            max_length=PROGRAM_NAME_MAX_LENGTH,
            errors=errors,
        )
        check_period(input.period_start, input.period_end, field="periodEnd", errors=errors)
        link = clean_link(input.link, field="link", errors=errors)
        account = account_ref(input.account_id)
        if account is None:
            errors.extend(NO_ACCOUNT)
        if errors or account is None:
            return NotificationPayload(recipients=0, errors=user_errors(errors))
        config = contacts_config(info.context)
        result = await notify.notify_visible_account(
            info.context.database,
            scope_of(info),
            account,
            lambda session: notify.notify_usage_report_requested(
                session,
                account,
                program_name=program,
                period_start=input.period_start,
                period_end=input.period_end,
                due_date=input.due_date,
                link=link or config.usage_report_url(),
                wake=config.wake,
            ),
        )
        if isinstance(result, list):
            return NotificationPayload(recipients=0, errors=user_errors(result))
        return NotificationPayload(recipients=result, errors=[])
