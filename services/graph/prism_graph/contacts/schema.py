"""Contacts in GraphQL: the queries, and the mutations of contacts by type
(`account_schema.py`) and of customer-account contacts and their sign-in
(`customer_schema.py`)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry import relay

from prism_domain.access import Permission
from prism_graph.access import requires, visible_customer_contacts
from prism_graph.common.ids import node_pk
from prism_graph.contacts import by_type
from prism_graph.contacts.account_schema import AccountContactMutations, account_ref, scope_of
from prism_graph.contacts.accounts import account_name_query
from prism_graph.contacts.customer_schema import CustomerContactMutations
from prism_graph.contacts.types import (
    AccountContact,
    AccountContacts,
    ContactTypeGroup,
    CustomerContact,
)
from prism_graph.context import Info
from prism_tables.contacts import CustomerContact as CustomerContactRow


@strawberry.type
class ContactQueries:
    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_CUSTOMER_CONTACTS)],
        description=(
            "The contacts by type of a partner or customer account, and per contact type the "
            "contacts on it; null when there is no such account you may see."
        ),
    )
    async def account_contacts(
        self,
        info: Info,
        account_id: Annotated[
            relay.GlobalID,
            strawberry.argument(
                description="The account: a partner (Organisation id) or a Customer id."
            ),
        ],
    ) -> AccountContacts | None:
        account = account_ref(account_id)
        if account is None:
            return None
        reader = info.context.reader
        if await reader.scalar(account_name_query(account, scope_of(info))) is None:
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
        description="The contacts of a customer's account, oldest first (at most the "
        "deployment's contact limit, 5 unless configured); empty for a customer you cannot see.",
    )
    async def customer_contacts(
        self,
        info: Info,
        customer_id: Annotated[
            relay.GlobalID, strawberry.argument(description="The customer's id.")
        ],
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
class ContactMutations(AccountContactMutations, CustomerContactMutations):
    pass
