"""The contacts' DataLoaders (C1, R1): contacts by type and customer contacts by id, each
customer's contacts, and the types each contact by type is attached to."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from prism_domain.access import Scope
from prism_domain.contacts import ContactType
from prism_graph import access
from prism_graph.common.loaders import GroupedRows, RequestLoaders, by_id_loader
from prism_graph.database import RequestReader
from prism_tables.contacts import (
    AccountContact,
    AccountContactType,
    AccountContactTypeMember,
    CustomerContact,
)


class ContactLoaders(RequestLoaders):
    @functools.cached_property
    def customer_contacts_by_customer(self) -> GroupedRows:
        return GroupedRows(
            self.reader,
            CustomerContact,
            CustomerContact.customer_id,
            access.visible_customer_contacts,
            self.scope,
            (CustomerContact.created_at, CustomerContact.id),
        )

    @functools.cached_property
    def account_contact_by_id(self) -> DataLoader[int, AccountContact | None]:
        return by_id_loader(
            self.reader, AccountContact, access.visible_account_contacts, self.scope
        )

    @functools.cached_property
    def contact_types_by_contact(self) -> DataLoader[int, list[ContactType]]:
        return contact_types_loader(self.reader, self.scope)

    @functools.cached_property
    def customer_contact_by_id(self) -> DataLoader[int, CustomerContact | None]:
        return by_id_loader(
            self.reader, CustomerContact, access.visible_customer_contacts, self.scope
        )


def contact_types_loader(
    reader: RequestReader, scope: Scope | None
) -> DataLoader[int, list[ContactType]]:
    """`ContactTypesByContact` (C1): the types each visible contact by type is attached to."""

    async def load(ids: Sequence[int]) -> list[list[ContactType]]:
        rows = await reader.rows(
            select(AccountContactTypeMember.contact_id, AccountContactType.type)
            .join(
                AccountContactType,
                AccountContactType.id == AccountContactTypeMember.contact_type_id,
            )
            .where(
                AccountContactTypeMember.contact_id.in_(set(ids)),
                access.visible_account_contact_types(scope),
            )
            .order_by(AccountContactType.type)
        )
        found: dict[int, list[ContactType]] = {i: [] for i in ids}
        for contact_id, contact_type in rows:
            found[contact_id].append(contact_type)
        return [found[i] for i in ids]

    return DataLoader(load_fn=load)
