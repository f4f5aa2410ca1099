"""A customer-account contact's bearer token becomes a `Principal` (T3, R7)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Principal, PrincipalKind
from prism_tables.contacts import CustomerContact
from prism_tables.identity import AccessToken


async def contact_principal(session: AsyncSession, access: AccessToken) -> Principal | None:
    """The contact a live CONTACT token belongs to; None when the contact is gone or unverified.

    The role is read on every request, so a changed role takes effect at once (R7).
    """
    if access.contact_id is None:
        return None
    contact = await session.scalar(
        select(CustomerContact).where(CustomerContact.id == access.contact_id)
    )
    if contact is None or contact.verified_at is None:
        return None
    return Principal(
        kind=PrincipalKind.CONTACT,
        id=contact.id,
        label=f"contact:{contact.email}",
        customer_id=contact.customer_id,
        contact_role=contact.role,
        token_id=access.id,
    )
