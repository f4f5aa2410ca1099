"""Editing contacts (issue 14): a customer-account contact's name and address (a new address
is verified again, R4), a contact by type's name and address, and deleting a contact by type
that is on no contact type any more (C3 keeps every type's last contact).

A customer-account contact whose address changes keeps its role (R2 keeps exactly one
primary, so a role cannot simply fall away), but it is unverified until it opens the link
mailed to the new address: until then it gets no sign-in links (only verified contacts do),
cannot be given another role (R5), and its sessions have ended. A PRIMARY or BILLING
contact's new address must be on the required domain, as when the role was given (R3).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.contacts import (
    DISPLAY_NAME_MAX_LENGTH,
    NAME_MAX_LENGTH,
    TYPE_LABELS,
    check_role_domain,
)
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.text import clean_email, clean_name
from prism_graph.access import visible_account_contacts
from prism_graph.contacts.accounts import AccountRef
from prism_graph.contacts.config import ContactsConfig
from prism_graph.contacts.customer_contacts import (
    NO_CONTACT,
    end_sessions,
    locked_contact,
    replace_links,
    role_domain,
    send_link,
)
from prism_graph.database import Database
from prism_tables.contacts import (
    AccountContact,
    AccountContactType,
    AccountContactTypeMember,
    CustomerContact,
    LinkPurpose,
)


def _duplicate(email: str, whose: str) -> FieldError:
    return FieldError("email", ErrorCode.DUPLICATE, f"{email} is already a contact of {whose}.")


async def update_customer_contact(
    database: Database,
    config: ContactsConfig,
    scope: Scope,
    contact_id: int,
    *,
    display_name: str | None,
    email: str | None,
) -> CustomerContact | list[FieldError]:
    """A new name and/or address; a changed address is verified again (see the module)."""
    errors: list[FieldError] = []
    name = address = None
    if display_name is not None:
        name = clean_name(
            display_name,
            field="displayName",
            label="Display name",
            max_length=DISPLAY_NAME_MAX_LENGTH,
            errors=errors,
        )
    if email is not None:
        address = clean_email(email, field="email", errors=errors)
    async with database.unit_of_work() as uow:
        session = uow.session
        locked = await locked_contact(session, scope, contact_id)
        if locked is None:
            return [NO_CONTACT]
        if errors:
            return errors
        contact, customer = locked  # read after the lock: its current role
        if name is not None:
            contact.display_name = name
        if address is not None and address != contact.email:
            taken = await session.scalar(
                select(CustomerContact.id).where(
                    CustomerContact.customer_id == customer.id, CustomerContact.email == address
                )
            )
            if taken is not None:
                return [_duplicate(address, "this customer")]
            domain, by_partner = await role_domain(session, customer)
            refused = check_role_domain(
                role=contact.role,
                email=address,
                required_domain=domain,
                ordered_by_partner=by_partner,
                field="email",
            )
            if refused is not None:
                return [refused]
            contact.email = address
            contact.verified_at = None
            try:
                await session.flush()
            except IntegrityError:
                return [_duplicate(address, "this customer")]  # a concurrent request took it
            # Links mailed to the old address stop working, and say a newer one was sent.
            await replace_links(session, contact.id, LinkPurpose.VERIFY, LinkPurpose.SIGN_IN)
            await end_sessions(session, contact.id)
            await send_link(session, config, contact, customer.name, LinkPurpose.VERIFY)
        await uow.commit()
        return contact


async def update_account_contact(
    database: Database,
    scope: Scope,
    contact_id: int,
    *,
    first_name: str | None,
    last_name: str | None,
    email: str | None,
) -> AccountContact | list[FieldError]:
    """A contact by type's new name and/or address (unique within its account)."""
    errors: list[FieldError] = []
    first = last = address = None
    if first_name is not None:
        first = clean_name(
            first_name,
            field="firstName",
            label="First name",
            max_length=NAME_MAX_LENGTH,
            errors=errors,
        )
    if last_name is not None:
        last = clean_name(
            last_name,
            field="lastName",
            label="Last name",
            max_length=NAME_MAX_LENGTH,
            errors=errors,
        )
    if email is not None:
        address = clean_email(email, field="email", errors=errors)
    async with database.unit_of_work() as uow:
        session = uow.session
        contact = await _visible_account_contact(session, scope, contact_id)
        if contact is None:
            return [FieldError("id", ErrorCode.NOT_FOUND, "No such contact.")]
        if errors:
            return errors
        if first is not None:
            contact.first_name = first
        if last is not None:
            contact.last_name = last
        if address is not None and address != contact.email:
            account = AccountRef.of(contact)
            taken = await session.scalar(
                select(AccountContact.id).where(
                    account.owns(AccountContact), AccountContact.email == address
                )
            )
            if taken is not None:
                return [_duplicate(address, "this account")]
            contact.email = address
        try:
            await session.flush()
        except IntegrityError:
            return [_duplicate(address or contact.email, "this account")]
        await uow.commit()
        return contact


async def delete_account_contact(
    database: Database, scope: Scope, contact_id: int
) -> int | list[FieldError]:
    """Delete a contact by type that is on no type any more; refused while it is on one
    (removing it from its types first is where the last contact of a type is kept, C3)."""
    async with database.unit_of_work() as uow:
        session = uow.session
        # Locked, so that a concurrent "add to type" either commits first (and is seen
        # below) or waits and then finds no contact.
        contact = await session.scalar(
            select(AccountContact)
            .where(AccountContact.id == contact_id, visible_account_contacts(scope))
            .with_for_update()
        )
        if contact is None:
            return [FieldError("id", ErrorCode.NOT_FOUND, "No such contact.")]
        types = (
            await session.scalars(
                select(AccountContactType.type)
                .join(
                    AccountContactTypeMember,
                    AccountContactTypeMember.contact_type_id == AccountContactType.id,
                )
                .where(AccountContactTypeMember.contact_id == contact.id)
                .order_by(AccountContactType.type)
            )
        ).all()
        if types:
            names = ", ".join(TYPE_LABELS[t] for t in types)
            return [
                FieldError(
                    "id",
                    ErrorCode.NOT_ALLOWED,
                    f"This contact is still on these contact types: {names}. Remove it from "
                    "each of them first (a type's last contact stays until another is added).",
                )
            ]
        deleted = contact.id
        await session.delete(contact)
        await uow.commit()
        return deleted


async def _visible_account_contact(
    session: AsyncSession, scope: Scope, contact_id: int
) -> AccountContact | None:
    """The contact, locked for the edit (`FOR NO KEY UPDATE` on PostgreSQL): a concurrent
    deletion either commits first, and then this finds no contact, or waits for the edit."""
    return await session.scalar(
        select(AccountContact)
        .where(AccountContact.id == contact_id, visible_account_contacts(scope))
        .with_for_update(key_share=True, of=AccountContact)
    )
