"""Contacts in GraphQL: by type (C1–C5) and customer-account contacts and roles (R1–R7, T3)."""

from __future__ import annotations

import anyio
import strawberry
from sqlalchemy import select
from strawberry import relay

from prism_domain.access import ContactRole as DomainContactRole
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
from prism_graph.access import public, requires, visible_customer_contacts
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.contacts import by_type, customer_contacts, notify
from prism_graph.contacts.accounts import AccountRef, account_name_query
from prism_graph.contacts.config import contacts_config
from prism_graph.contacts.types import (
    AccountContact,
    AccountContactPayload,
    AccountContacts,
    AddAccountContactInput,
    AddCustomerContactInput,
    ContactSignInPayload,
    ContactTypeGroup,
    ContactTypeInput,
    CustomerContact,
    CustomerContactPayload,
    DeleteCustomerContactInput,
    DeleteCustomerContactPayload,
    NotificationPayload,
    RequestContactSignInPayload,
    SetCustomerContactRoleInput,
    StatementDueInput,
    UsageReportRequestInput,
    VerifyCustomerContactPayload,
)
from prism_graph.context import Info
from prism_tables.contacts import AccountContact as AccountContactRow
from prism_tables.contacts import CustomerContact as CustomerContactRow

SIGN_IN_ANSWER = (
    "If this address belongs to a verified contact, a sign-in link is on its way to it."
)


def _account(value: relay.GlobalID) -> AccountRef | None:
    if (pk := node_pk(value, "Organisation")) >= 0:
        return AccountRef(organisation_id=pk)
    if (pk := node_pk(value, "Customer")) >= 0:
        return AccountRef(customer_id=pk)
    return None


_NO_ACCOUNT = [FieldError("accountId", ErrorCode.NOT_FOUND, "No such partner or customer account.")]


def _typed_payload(result: AccountContactRow | list[FieldError]) -> AccountContactPayload:
    if isinstance(result, list):
        return AccountContactPayload(contact=None, errors=user_errors(result))
    return AccountContactPayload(contact=AccountContact.from_model(result), errors=[])


def _contact_payload(result: CustomerContactRow | list[FieldError]) -> CustomerContactPayload:
    if isinstance(result, list):
        return CustomerContactPayload(contact=None, errors=user_errors(result))
    return CustomerContactPayload(contact=CustomerContact.from_model(result), errors=[])


def _scope(info: Info) -> Scope:
    scope = info.context.scope
    assert scope is not None  # the permission classes let no anonymous caller in
    return scope


@strawberry.type
class ContactQueries:
    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "C4: the contacts of a partner (Organisation id) or customer account, and per "
            "contact type its active contacts; null when there is no such account."
        ),
    )
    async def account_contacts(
        self, info: Info, account_id: relay.GlobalID
    ) -> AccountContacts | None:
        account = _account(account_id)
        if account is None:
            return None
        reader = info.context.reader
        if await reader.scalar(account_name_query(account, _scope(info))) is None:
            return None
        contacts = await reader.scalars(by_type.contacts_query(account))
        groups = by_type.group_by_type(
            contacts, await reader.rows(by_type.memberships_query(account))
        )
        return AccountContacts(
            contacts=[AccountContact.from_model(c) for c in contacts],
            by_type=[
                ContactTypeGroup(
                    type=g.type, contacts=[AccountContact.from_model(c) for c in g.contacts]
                )
                for g in groups
            ],
        )

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description="R1: the contacts of a customer account (at most the configured limit).",
    )
    async def customer_contacts(
        self, info: Info, customer_id: relay.GlobalID
    ) -> list[CustomerContact]:
        rows = await info.context.reader.scalars(
            select(CustomerContactRow)
            .where(
                CustomerContactRow.customer_id == node_pk(customer_id, "Customer"),
                visible_customer_contacts(info.context.scope),
            )
            .order_by(CustomerContactRow.created_at, CustomerContactRow.id)
            .limit(100)
        )
        return [CustomerContact.from_model(r) for r in rows]


@strawberry.type
class ContactMutations:
    # Contacts by type (C1–C4) ------------------------------------------------------------

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description="C1: add a contact (first name, last name, e-mail) to an account's type.",
    )
    async def add_account_contact(
        self, info: Info, input: AddAccountContactInput
    ) -> AccountContactPayload:
        account = _account(input.account_id)
        if account is None:
            return _typed_payload(_NO_ACCOUNT)
        return _typed_payload(
            await by_type.add_contact(
                info.context.database,
                _scope(info),
                account,
                first_name=input.first_name,
                last_name=input.last_name,
                email=input.email,
                contact_type=DomainContactType(input.type),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description="C2: attach an existing contact to one more contact type.",
    )
    async def add_contact_to_type(
        self, info: Info, input: ContactTypeInput
    ) -> AccountContactPayload:
        return _typed_payload(
            await by_type.add_to_type(
                info.context.database,
                _scope(info),
                node_pk(input.contact_id, "AccountContact"),
                DomainContactType(input.type),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "C3/C4: remove a contact from one contact type (only that one); the last contact "
            "of a type cannot be removed."
        ),
    )
    async def remove_contact_from_type(
        self, info: Info, input: ContactTypeInput
    ) -> AccountContactPayload:
        return _typed_payload(
            await by_type.remove_from_type(
                info.context.database,
                _scope(info),
                node_pk(input.contact_id, "AccountContact"),
                DomainContactType(input.type),
            )
        )

    # Notices (C5), triggered by staff ----------------------------------------------------

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMERS)],
        description="C5: mail a statement-of-account notice to the account's STATEMENT contacts.",
    )
    async def send_statement_due_notice(
        self, info: Info, input: StatementDueInput
    ) -> NotificationPayload:
        errors: list[FieldError] = []
        currency = clean_currency(input.currency, field="currency", errors=errors)
        check_amount(input.amount_due, field="amountDue", errors=errors)
        link = clean_link(input.link, field="link", errors=errors)
        account = _account(input.account_id)
        if account is None:
            errors.extend(_NO_ACCOUNT)
        if errors or account is None:
            return NotificationPayload(recipients=0, errors=user_errors(errors))
        config = contacts_config(info.context)
        result = await notify.notify_visible_account(
            info.context.database,
            _scope(info),
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
        description="C5: ask the account's USAGE_REPORTING contacts to submit a usage report.",
    )
    async def request_usage_report(
        self, info: Info, input: UsageReportRequestInput
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
        account = _account(input.account_id)
        if account is None:
            errors.extend(_NO_ACCOUNT)
        if errors or account is None:
            return NotificationPayload(recipients=0, errors=user_errors(errors))
        config = contacts_config(info.context)
        result = await notify.notify_visible_account(
            info.context.database,
            _scope(info),
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

    # Customer-account contacts and roles (R1–R6) ----------------------------------------

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "R1/R4: add a contact (display name, e-mail) to a customer account, by default "
            "mailing it a verification link; refused beyond the account's contact limit."
        ),
    )
    async def add_customer_contact(
        self, info: Info, input: AddCustomerContactInput
    ) -> CustomerContactPayload:
        return _contact_payload(
            await customer_contacts.add_contact(
                info.context.database,
                contacts_config(info.context),
                _scope(info),
                node_pk(input.customer_id, "Customer"),
                display_name=input.display_name,
                email=input.email,
                send_verification=input.send_verification_email,
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description='R4 "Verify": mail a fresh verification link; earlier links stop working.',
    )
    async def resend_customer_contact_verification(
        self, info: Info, id: relay.GlobalID
    ) -> CustomerContactPayload:
        result = await customer_contacts.resend_verification(
            info.context.database,
            contacts_config(info.context),
            _scope(info),
            node_pk(id, "CustomerContact"),
        )
        if isinstance(result, list):
            return CustomerContactPayload(contact=None, errors=user_errors(result, None))
        return _contact_payload(result)

    @strawberry.mutation(
        permission_classes=[public()],
        description="R4: the verification link's token marks its contact verified (once).",
    )
    async def verify_customer_contact(self, info: Info, token: str) -> VerifyCustomerContactPayload:
        result = await customer_contacts.verify(info.context.database, token)
        if isinstance(result, list):
            return VerifyCustomerContactPayload(verified=False, errors=user_errors(result, None))
        return VerifyCustomerContactPayload(verified=True, errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "R2/R3/R5: give a verified contact a role (PRIMARY moves from the current primary; "
            "PRIMARY and BILLING must be on the ordering organisation's domain)."
        ),
    )
    async def set_customer_contact_role(
        self, info: Info, input: SetCustomerContactRoleInput
    ) -> CustomerContactPayload:
        return _contact_payload(
            await customer_contacts.set_role(
                info.context.database,
                _scope(info),
                node_pk(input.id, "CustomerContact"),
                DomainContactRole(input.role),
            )
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "R6: delete a contact; never the primary, and a BILLING or TECHNICAL contact only "
            "with confirm: true."
        ),
    )
    async def delete_customer_contact(
        self, info: Info, input: DeleteCustomerContactInput
    ) -> DeleteCustomerContactPayload:
        result = await customer_contacts.delete_contact(
            info.context.database,
            _scope(info),
            node_pk(input.id, "CustomerContact"),
            confirm=input.confirm,
        )
        if isinstance(result, list):
            return DeleteCustomerContactPayload(deleted_id=None, errors=user_errors(result))
        return DeleteCustomerContactPayload(
            deleted_id=relay.GlobalID("CustomerContact", str(result)), errors=[]
        )

    # Contacts sign in (T3) --------------------------------------------------------------

    @strawberry.mutation(
        permission_classes=[public()],
        description=(
            "T3: a verified contact asks for a sign-in link by e-mail; the answer is the same "
            "whether or not the address is known."
        ),
    )
    async def request_contact_sign_in(self, info: Info, email: str) -> RequestContactSignInPayload:
        ctx = info.context
        config = contacts_config(ctx)
        throttle = config.throttle or ctx.identity.throttle
        key = f"contact:{(email or '').strip().lower()[:254]}"
        allowed = await anyio.to_thread.run_sync(throttle.allow, key, ctx.client_address)
        if not allowed:
            return RequestContactSignInPayload(
                message=SIGN_IN_ANSWER,
                errors=user_errors(
                    [FieldError(None, ErrorCode.THROTTLED, "Too many requests; wait 15 minutes.")],
                    None,
                ),
            )
        errors = await customer_contacts.request_sign_in(ctx.database, config, email)
        return RequestContactSignInPayload(message=SIGN_IN_ANSWER, errors=user_errors(errors, None))

    @strawberry.mutation(
        permission_classes=[public()],
        description="T3: exchange a sign-in link's token for an access token (once).",
    )
    async def sign_in_with_contact_link(self, info: Info, token: str) -> ContactSignInPayload:
        result = await customer_contacts.sign_in(
            info.context.database, contacts_config(info.context), token
        )
        if isinstance(result, list):
            return ContactSignInPayload(
                access_token=None, expires_at=None, contact=None, errors=user_errors(result, None)
            )
        return ContactSignInPayload(
            access_token=result.token,
            expires_at=result.expires_at,
            contact=CustomerContact.from_model(result.contact),
            errors=[],
        )
