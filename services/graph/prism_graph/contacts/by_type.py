"""Use cases of contacts by type (SPEC C1–C4, N1).

C3 under concurrency: every removal first locks the account's row for that type in
`account_contact_types` (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's write transactions
are serial anyway, they begin with `BEGIN IMMEDIATE`), then counts the type's contacts. Two
simultaneous removals of a type's last two contacts therefore take turns: the second one
counts after the first committed, sees one contact left, and is refused. Adding never needs
the lock (it cannot break the rule); the type row itself is created with
`INSERT ... ON CONFLICT DO NOTHING` so two first additions cannot collide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.contacts import ContactType, NewTypedContact, check_type_removal
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_graph.access import visible_account_contacts
from prism_graph.contacts.accounts import AccountRef, account_name
from prism_graph.database import Database
from prism_platform.db import conflict_insert
from prism_tables.contacts import (
    AccountContact,
    AccountContactType,
    AccountContactTypeMember,
)

NO_ACCOUNT = FieldError("accountId", ErrorCode.NOT_FOUND, "No such partner or customer account.")
NO_CONTACT = FieldError("contactId", ErrorCode.NOT_FOUND, "No such contact.")


def _duplicate(email: str) -> FieldError:
    return FieldError(
        "email", ErrorCode.DUPLICATE, f"{email} is already a contact of this account."
    )


@dataclass(frozen=True)
class TypeGroup:
    type: ContactType
    contacts: list[AccountContact]


async def add_contact(
    database: Database,
    scope: Scope,
    account: AccountRef,
    *,
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    contact_type: ContactType,
) -> AccountContact | list[FieldError]:
    """C1: a new contact of the account, attached to `contact_type`."""
    try:
        new = NewTypedContact.parse(first_name=first_name, last_name=last_name, email=email)
    except DomainValidationError as exc:
        return exc.errors
    async with database.unit_of_work() as uow:
        session = uow.session
        if await account_name(session, account, scope) is None:
            return [NO_ACCOUNT]
        taken = await session.scalar(
            select(AccountContact.id).where(
                account.owns(AccountContact), AccountContact.email == new.email
            )
        )
        if taken is not None:
            return [_duplicate(new.email)]
        contact = AccountContact(
            organisation_id=account.organisation_id,
            customer_id=account.customer_id,
            first_name=new.first_name,
            last_name=new.last_name,
            email=new.email,
        )
        session.add(contact)
        try:
            await session.flush()
        except IntegrityError:
            return [_duplicate(new.email)]  # a concurrent request added the same address
        type_id = await _type_row(session, account, contact_type)
        session.add(AccountContactTypeMember(contact_type_id=type_id, contact_id=contact.id))
        await uow.commit()
        return contact


async def add_to_type(
    database: Database, scope: Scope, contact_id: int, contact_type: ContactType
) -> AccountContact | list[FieldError]:
    """C2: attach an existing contact to one more type."""
    async with database.unit_of_work() as uow:
        session = uow.session
        contact = await _visible_contact(session, scope, contact_id)
        if contact is None:
            return [NO_CONTACT]
        type_id = await _type_row(session, AccountRef.of(contact), contact_type)
        if await _is_member(session, type_id, contact.id):
            return [
                FieldError(
                    "type",
                    ErrorCode.DUPLICATE,
                    f"This contact is already a {contact_type.value} contact.",
                )
            ]
        session.add(AccountContactTypeMember(contact_type_id=type_id, contact_id=contact.id))
        await uow.commit()
        return contact


async def remove_from_type(
    database: Database, scope: Scope, contact_id: int, contact_type: ContactType
) -> AccountContact | list[FieldError]:
    """C3/C4: detach a contact from one type; never the type's last contact."""
    async with database.unit_of_work() as uow:
        result = await remove_from_type_in(uow.session, scope, contact_id, contact_type)
        if not isinstance(result, list):
            await uow.commit()
        return result


async def remove_from_type_in(
    session: AsyncSession, scope: Scope, contact_id: int, contact_type: ContactType
) -> AccountContact | list[FieldError]:
    """The removal inside the caller's transaction (which holds the type's lock until it ends)."""
    contact = await _visible_contact(session, scope, contact_id)
    if contact is None:
        return [NO_CONTACT]
    account = AccountRef.of(contact)
    type_id = await session.scalar(
        select(AccountContactType.id)
        .where(account.owns(AccountContactType), AccountContactType.type == contact_type)
        .with_for_update()
    )
    if type_id is None or not await _is_member(session, type_id, contact.id):
        return [
            FieldError(
                "type", ErrorCode.NOT_FOUND, f"This contact is not a {contact_type.value} contact."
            )
        ]
    count = await session.scalar(
        select(func.count())
        .select_from(AccountContactTypeMember)
        .where(AccountContactTypeMember.contact_type_id == type_id)
    )
    refused = check_type_removal(contact_type, int(count or 0))
    if refused is not None:
        return [refused]
    await session.execute(
        delete(AccountContactTypeMember).where(
            AccountContactTypeMember.contact_type_id == type_id,
            AccountContactTypeMember.contact_id == contact.id,
        )
    )
    return contact


def contacts_query(account: AccountRef) -> Select[Any]:
    """C4: every contact of the account, by name."""
    return (
        select(AccountContact)
        .where(account.owns(AccountContact))
        .order_by(AccountContact.last_name, AccountContact.first_name, AccountContact.id)
    )


def memberships_query(account: AccountRef) -> Select[ContactType, int]:
    """(type, contact id) of every membership of the account."""
    return (
        select(AccountContactType.type, AccountContactTypeMember.contact_id)
        .join(
            AccountContactTypeMember,
            AccountContactTypeMember.contact_type_id == AccountContactType.id,
        )
        .where(account.owns(AccountContactType))
    )


def group_by_type(
    contacts: Sequence[AccountContact], memberships: Sequence[Any]
) -> list[TypeGroup]:
    """C4: every type, in order, with its contacts (in the order of `contacts`)."""
    members: dict[ContactType, set[int]] = {t: set() for t in ContactType}
    for contact_type, member_id in memberships:
        members[contact_type].add(member_id)
    return [TypeGroup(t, [c for c in contacts if c.id in members[t]]) for t in ContactType]


async def contacts_of_type(
    session: AsyncSession, account: AccountRef, contact_type: ContactType
) -> list[AccountContact]:
    """The contacts a notice of `contact_type` goes to (C5), in a stable order."""
    return list(
        (
            await session.scalars(
                select(AccountContact)
                .join(
                    AccountContactTypeMember,
                    AccountContactTypeMember.contact_id == AccountContact.id,
                )
                .join(
                    AccountContactType,
                    AccountContactType.id == AccountContactTypeMember.contact_type_id,
                )
                .where(account.owns(AccountContactType), AccountContactType.type == contact_type)
                .order_by(AccountContact.id)
            )
        ).all()
    )


async def _visible_contact(
    session: AsyncSession, scope: Scope, contact_id: int
) -> AccountContact | None:
    """The contact, share-locked until the transaction ends (`FOR KEY SHARE` on PostgreSQL):
    a concurrent deletion (which locks it `FOR UPDATE`) either commits first, and then this
    finds no contact, or waits for this transaction and then sees its memberships."""
    return await session.scalar(
        select(AccountContact)
        .where(AccountContact.id == contact_id, visible_account_contacts(scope))
        .with_for_update(read=True, key_share=True, of=AccountContact)
    )


async def _is_member(session: AsyncSession, type_id: int, contact_id: int) -> bool:
    found = await session.scalar(
        select(AccountContactTypeMember.contact_id).where(
            AccountContactTypeMember.contact_type_id == type_id,
            AccountContactTypeMember.contact_id == contact_id,
        )
    )
    return found is not None


async def _type_row(session: AsyncSession, account: AccountRef, contact_type: ContactType) -> int:
    """The id of the account's row for `contact_type`, created when missing."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    insert_for = conflict_insert(dialect)
    await session.execute(
        insert_for(AccountContactType)
        .values(
            organisation_id=account.organisation_id,
            customer_id=account.customer_id,
            type=contact_type,
        )
        .on_conflict_do_nothing()
    )
    type_id = await session.scalar(
        select(AccountContactType.id).where(
            account.owns(AccountContactType), AccountContactType.type == contact_type
        )
    )
    assert type_id is not None
    return int(type_id)
