"""Use cases of customer-account contacts (SPEC R1–R6, T3, N1).

Who may call them is decided by the policy layer: MANAGE_CUSTOMER_CONTACTS is held by
partner and distributor staff (and API clients) and, among contacts, only by the PRIMARY one
(R5, R7); the scope limits each caller to the customers it reaches, so another tenant's
contact is simply not found.

Changes that depend on the account's other contacts (the R1 limit, the single primary) lock
the customer's row first, so concurrent requests for one account take turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import ContactRole, PrincipalKind, Scope
from prism_domain.contacts import (
    NewCustomerContact,
    check_contact_deletion,
    check_contact_limit,
    check_role_assignment,
)
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.organisations import OrganisationKind
from prism_domain.text import clean_email
from prism_graph.access import visible_customer_contacts, visible_customers
from prism_graph.contacts.config import ContactsConfig
from prism_graph.database import Database
from prism_graph.identity.secrets import new_token, token_hash
from prism_graph.mail.outbox import enqueue
from prism_graph.mail.templates import compose
from prism_platform.db import utcnow
from prism_tables.contacts import CustomerContact, CustomerContactLink, LinkPurpose
from prism_tables.customers import Customer
from prism_tables.identity import AccessToken
from prism_tables.organisations import Organisation

VERIFY_PREFIX = "prism_cv"
SIGN_IN_PREFIX = "prism_cl"
ACCESS_TOKEN_PREFIX = "prism_at"  # noqa: S105 - the prefix every bearer token has

NO_CUSTOMER = FieldError("customerId", ErrorCode.NOT_FOUND, "No such customer.")
NO_CONTACT = FieldError("id", ErrorCode.NOT_FOUND, "No such contact.")


@dataclass(frozen=True)
class ContactSignIn:
    token: str
    expires_at: datetime
    contact: CustomerContact


async def add_contact(
    database: Database,
    config: ContactsConfig,
    scope: Scope,
    customer_id: int,
    *,
    display_name: str | None,
    email: str | None,
    send_verification: bool,
) -> CustomerContact | list[FieldError]:
    """R1/R4: a new (unverified, UNASSIGNED) contact; optionally mail it a verification link."""
    try:
        new = NewCustomerContact.parse(display_name=display_name, email=email)
    except DomainValidationError as exc:
        return exc.errors
    async with database.unit_of_work() as uow:
        session = uow.session
        customer = await locked_customer(session, scope, customer_id)
        if customer is None:
            return [NO_CUSTOMER]
        existing = await session.scalar(
            select(func.count())
            .select_from(CustomerContact)
            .where(CustomerContact.customer_id == customer.id)
        )
        over = check_contact_limit(int(existing or 0), config.customer_contact_limit)
        if over is not None:
            return [over]
        duplicate = FieldError(
            "email", ErrorCode.DUPLICATE, f"{new.email} is already a contact of this customer."
        )
        taken = await session.scalar(
            select(CustomerContact.id).where(
                CustomerContact.customer_id == customer.id, CustomerContact.email == new.email
            )
        )
        if taken is not None:
            return [duplicate]
        contact = CustomerContact(
            customer_id=customer.id,
            display_name=new.display_name,
            email=new.email,
            role=ContactRole.UNASSIGNED,
        )
        session.add(contact)
        try:
            await session.flush()
        except IntegrityError:
            return [duplicate]
        if send_verification:
            await send_link(session, config, contact, customer.name, LinkPurpose.VERIFY)
        await uow.commit()
        return contact


async def resend_verification(
    database: Database, config: ContactsConfig, scope: Scope, contact_id: int
) -> CustomerContact | list[FieldError]:
    """R4 "Verify": a fresh verification link; earlier ones stop working."""
    async with database.unit_of_work() as uow:
        session = uow.session
        contact = await visible_contact(session, scope, contact_id)
        if contact is None:
            return [NO_CONTACT]
        if contact.verified_at is not None:
            return [FieldError("id", ErrorCode.CONFLICT, "This contact is verified already.")]
        customer = await session.get(Customer, contact.customer_id)
        assert customer is not None
        await send_link(session, config, contact, customer.name, LinkPurpose.VERIFY)
        await uow.commit()
        return contact


async def verify(database: Database, token: str) -> CustomerContact | list[FieldError]:
    """R4: opening the link marks the contact verified; the link works once."""
    async with database.unit_of_work() as uow:
        found = await _use_link(uow.session, token, LinkPurpose.VERIFY)
        if isinstance(found, list):
            return found
        if found.verified_at is None:
            found.verified_at = utcnow()
        await uow.commit()
        return found


async def request_sign_in(
    database: Database, config: ContactsConfig, email: str | None
) -> list[FieldError]:
    """T3: mail a sign-in link to every verified contact with this address (one per customer).

    The answer is the same whether or not the address is known, so nobody learns which
    addresses are; only an address that cannot be one (N1) is refused.
    """
    errors: list[FieldError] = []
    address = clean_email(email, field="email", errors=errors)
    if errors:
        return errors
    async with database.unit_of_work() as uow:
        session = uow.session
        rows = (
            await session.execute(
                select(CustomerContact, Customer.name)
                .join(Customer, Customer.id == CustomerContact.customer_id)
                .where(CustomerContact.email == address, CustomerContact.verified_at.is_not(None))
                .order_by(CustomerContact.id)
            )
        ).all()
        for contact, customer_name in rows:
            await send_link(session, config, contact, customer_name, LinkPurpose.SIGN_IN)
        await uow.commit()
    return []


async def sign_in(
    database: Database, config: ContactsConfig, token: str
) -> ContactSignIn | list[FieldError]:
    """T3: exchange a sign-in link for an access token scoped to the contact's customer."""
    async with database.unit_of_work() as uow:
        found = await _use_link(uow.session, token, LinkPurpose.SIGN_IN)
        if isinstance(found, list):
            return found
        if found.verified_at is None:
            return [FieldError("token", ErrorCode.NOT_VERIFIED, "Verify the address first.")]
        bearer = new_token(ACCESS_TOKEN_PREFIX)
        expires_at = utcnow() + config.access_token_ttl
        uow.session.add(
            AccessToken(
                token_hash=token_hash(bearer),
                principal_kind=PrincipalKind.CONTACT,
                contact_id=found.id,
                expires_at=expires_at,
            )
        )
        await uow.commit()
        return ContactSignIn(bearer, expires_at, found)


async def set_role(
    database: Database, scope: Scope, contact_id: int, role: ContactRole
) -> CustomerContact | list[FieldError]:
    """R2/R3/R5: give one contact a role; PRIMARY moves from the current primary to it."""
    async with database.unit_of_work() as uow:
        session = uow.session
        locked = await locked_contact(session, scope, contact_id)
        if locked is None:
            return [NO_CONTACT]
        contact, customer = locked
        domain, by_partner = await role_domain(session, customer)
        refused = check_role_assignment(
            role=role,
            email=contact.email,
            verified=contact.verified_at is not None,
            current_role=contact.role,
            required_domain=domain,
            ordered_by_partner=by_partner,
        )
        if refused is not None:
            return [refused]
        if role is ContactRole.PRIMARY and contact.role is not ContactRole.PRIMARY:
            # Exactly one primary (R2): the current one steps down in the same transaction.
            await session.execute(
                update(CustomerContact)
                .where(
                    CustomerContact.customer_id == customer.id,
                    CustomerContact.role == ContactRole.PRIMARY,
                )
                .values(role=ContactRole.UNASSIGNED, updated_at=utcnow())
                .execution_options(synchronize_session="fetch")
            )
        contact.role = role
        await uow.commit()
        return contact


async def delete_contact(
    database: Database, scope: Scope, contact_id: int, *, confirm: bool
) -> int | list[FieldError]:
    """R6: delete a contact (never the primary; BILLING/TECHNICAL only when confirmed)."""
    async with database.unit_of_work() as uow:
        session = uow.session
        locked = await locked_contact(session, scope, contact_id)
        if locked is None:
            return [NO_CONTACT]
        contact, _ = locked
        refused = check_contact_deletion(contact.role, confirmed=confirm)
        if refused is not None:
            return [refused]
        # Its sessions end with it (the token table keeps no foreign key to contacts).
        await end_sessions(session, contact.id)
        deleted = contact.id
        await session.delete(contact)
        await uow.commit()
        return deleted


async def role_domain(session: AsyncSession, customer: Customer) -> tuple[str | None, bool]:
    """R3: the domain PRIMARY and BILLING addresses must be on (the ordering partner's, a
    direct customer's own), and whether a partner ordered for the customer."""
    owner = await session.get(Organisation, customer.owner_id)
    by_partner = owner is not None and owner.kind is OrganisationKind.PARTNER
    return (owner.domain if by_partner and owner else customer.domain), by_partner


async def end_sessions(session: AsyncSession, contact_id: int) -> None:
    """Revoke the contact's access tokens."""
    await session.execute(
        update(AccessToken)
        .where(AccessToken.contact_id == contact_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def locked_customer(session: AsyncSession, scope: Scope, customer_id: int) -> Customer | None:
    result: Customer | None = await session.scalar(
        select(Customer)
        .where(Customer.id == customer_id, visible_customers(scope))
        .with_for_update()
    )
    return result


async def locked_contact(
    session: AsyncSession, scope: Scope, contact_id: int
) -> tuple[CustomerContact, Customer] | None:
    """The contact and its customer, with the customer's row locked, so that changes to one
    account's contacts take turns; the contact is read again after the lock, as the
    transaction that held it left it. None when the caller does not see the contact, or
    when that transaction deleted it (a deletion racing a change answers "not found", not
    an unexpected error)."""
    contact = await visible_contact(session, scope, contact_id)
    if contact is None:
        return None
    customer = await locked_customer(session, scope, contact.customer_id)
    if customer is None:
        return None
    current: CustomerContact | None = await session.scalar(
        select(CustomerContact)
        .where(CustomerContact.id == contact_id)
        .execution_options(populate_existing=True)
    )
    if current is None:
        return None
    return current, customer


async def visible_contact(
    session: AsyncSession, scope: Scope, contact_id: int
) -> CustomerContact | None:
    result: CustomerContact | None = await session.scalar(
        select(CustomerContact).where(
            CustomerContact.id == contact_id, visible_customer_contacts(scope)
        )
    )
    return result


async def send_link(
    session: AsyncSession,
    config: ContactsConfig,
    contact: CustomerContact,
    customer_name: str,
    purpose: LinkPurpose,
) -> None:
    """A new single-use link for `purpose` (earlier unused ones stop working, and say they
    were replaced), mailed in the caller's transaction."""
    await replace_links(session, contact.id, purpose)
    verifying = purpose is LinkPurpose.VERIFY
    token = new_token(VERIFY_PREFIX if verifying else SIGN_IN_PREFIX)
    ttl = config.verification_ttl if verifying else config.sign_in_ttl
    expires_at = utcnow() + ttl
    session.add(
        CustomerContactLink(
            contact_id=contact.id,
            purpose=purpose,
            token_hash=token_hash(token),
            expires_at=expires_at,
        )
    )
    link = config.verification_url(token) if verifying else config.sign_in_url(token)
    template = "contact_verification" if verifying else "contact_sign_in"
    message = compose(
        template,
        to=[contact.email],
        # One message per link: a retried transaction cannot mail it twice.
        idempotency_key=f"{template.replace('_', '-')}:{token_hash(token)}",
        display_name=contact.display_name,
        account_name=customer_name,
        link=link,
        expires_at=expires_at,
    )
    await enqueue(session, message, wake=config.wake)


async def replace_links(session: AsyncSession, contact_id: int, *purposes: LinkPurpose) -> None:
    """End the contact's unused links of `purposes`: opening one says a newer link was sent."""
    now = utcnow()
    await session.execute(
        update(CustomerContactLink)
        .where(
            CustomerContactLink.contact_id == contact_id,
            CustomerContactLink.purpose.in_(purposes),
            CustomerContactLink.used_at.is_(None),
        )
        .values(used_at=now, replaced_at=now)
    )


async def _use_link(
    session: AsyncSession, token: str, purpose: LinkPurpose
) -> CustomerContact | list[FieldError]:
    what = "verification" if purpose is LinkPurpose.VERIFY else "sign-in"
    link = await session.scalar(
        select(CustomerContactLink)
        .where(
            CustomerContactLink.token_hash == token_hash(token or ""),
            CustomerContactLink.purpose == purpose,
        )
        .with_for_update()
    )
    if link is None:
        return [FieldError("token", ErrorCode.NOT_FOUND, f"This {what} link is not valid.")]
    if link.replaced_at is not None:
        return [
            FieldError(
                "token",
                ErrorCode.REPLACED,
                f"This {what} link was replaced by a newer one: use the link in the latest "
                "e-mail, or ask for a new one.",
            )
        ]
    if link.used_at is not None:
        return [FieldError("token", ErrorCode.ALREADY_USED, f"This {what} link was used already.")]
    if link.expires_at <= utcnow():
        return [FieldError("token", ErrorCode.EXPIRED, f"This {what} link has expired; ask again.")]
    contact = await session.get(CustomerContact, link.contact_id)
    if contact is None:
        return [FieldError("token", ErrorCode.NOT_FOUND, f"This {what} link is not valid.")]
    link.used_at = utcnow()
    return contact
