"""Which account a contact by type belongs to: a partner organisation or a customer (C1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Scope
from prism_domain.organisations import OrganisationKind
from prism_graph.access import visible_customers, visible_partner_accounts
from prism_tables.customers import Customer
from prism_tables.organisations import Organisation


@dataclass(frozen=True)
class AccountRef:
    """Exactly one of `organisation_id` (a partner) and `customer_id` is set."""

    organisation_id: int | None = None
    customer_id: int | None = None

    def __post_init__(self) -> None:
        if (self.organisation_id is None) == (self.customer_id is None):
            raise ValueError("an account is a partner organisation or a customer, not both")

    @property
    def key(self) -> str:
        """Stable text for idempotency keys: `partner:3`, `customer:5`."""
        if self.customer_id is not None:
            return f"customer:{self.customer_id}"
        return f"partner:{self.organisation_id}"

    def owns(self, model: Any) -> ColumnElement[bool]:
        """`model.<account column> == this account`, for tables with both columns."""
        if self.customer_id is not None:
            result: ColumnElement[bool] = model.customer_id == self.customer_id
        else:
            result = model.organisation_id == self.organisation_id
        return result

    @classmethod
    def of(cls, row: Any) -> AccountRef:
        return cls(organisation_id=row.organisation_id, customer_id=row.customer_id)


def account_name_query(account: AccountRef, scope: Scope | None) -> Select[Any]:
    """The account's name, if the scope reaches it; `scope=None` is trusted code (no filter)."""
    if account.customer_id is not None:
        stmt = select(Customer.name).where(Customer.id == account.customer_id)
        if scope is not None:
            stmt = stmt.where(visible_customers(scope))
    else:
        stmt = select(Organisation.name).where(
            Organisation.id == account.organisation_id,
            Organisation.kind == OrganisationKind.PARTNER,
        )
        if scope is not None:
            stmt = stmt.where(visible_partner_accounts(scope))
    return stmt


async def account_name(
    session: AsyncSession, account: AccountRef, scope: Scope | None
) -> str | None:
    """The account's name when the scope reaches it (None: not found, whatever the reason)."""
    name = await session.scalar(account_name_query(account, scope))
    return str(name) if name is not None else None
