"""Per-request DataLoaders (STYLE habit 5), filtered by the caller's scope (T3).

Every relationship field loads through one, so a page of N rows costs one statement per
relationship, not N; and since each loader only ever returns rows the caller may see, an id
of another tenant loads as missing, on every path (node, nested edge, mutation input).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from strawberry.dataloader import DataLoader

from prism_domain.access import Scope
from prism_domain.contacts import ContactType
from prism_graph import access
from prism_graph.billing.models import Invoice, InvoiceLine
from prism_graph.catalogue.models import Product, ProductPrice, Program
from prism_graph.contacts.models import (
    AccountContact,
    AccountContactType,
    AccountContactTypeMember,
    CustomerContact,
)
from prism_graph.customers.models import Customer
from prism_graph.customers.tenant_models import Tenant
from prism_graph.database import RequestReader
from prism_graph.identity.models import ApiClient, User
from prism_graph.orders.models import CustomerAttachment, Order, OrderLine, RfiRequest
from prism_graph.organisations.models import Organisation
from prism_graph.subscriptions.models import Subscription, SubscriptionQuantity
from prism_syncer.invoices.models import (
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)
from prism_syncer.products.models import ProductSyncRun, ProductSyncRunItem
from prism_syncer.psa.models import CustomerMapping

M = TypeVar("M")


def by_id_loader(
    reader: RequestReader,
    model: type[M],
    visible: Callable[[Scope | None], ColumnElement[bool]],
    scope: Scope | None,
) -> DataLoader[int, M | None]:
    id_column: Any = model.id  # type: ignore[attr-defined]

    async def load(ids: Sequence[int]) -> list[M | None]:
        rows = await reader.scalars(select(model).where(id_column.in_(set(ids)), visible(scope)))
        found = {row.id: row for row in rows}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


def grouped_loader(
    reader: RequestReader,
    model: type[M],
    key: Any,
    visible: ColumnElement[bool],
    order_by: Sequence[Any],
) -> DataLoader[int, list[M]]:
    """`<Things>By<Parent>`: the visible rows of each parent id, in `order_by`, one statement."""

    async def load(ids: Sequence[int]) -> list[list[M]]:
        rows = await reader.scalars(
            select(model).where(key.in_(set(ids)), visible).order_by(*order_by)
        )
        found: dict[int, list[M]] = {i: [] for i in ids}
        for row in rows:
            found[getattr(row, key.key)].append(row)
        return [found[i] for i in ids]

    return DataLoader(load_fn=load)


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


def by_key_loader(
    reader: RequestReader, model: type[M], key: Any, visible: ColumnElement[bool]
) -> DataLoader[int, M | None]:
    """`<Thing>By<UniqueKey>`: the visible row whose unique `key` is each id, or None."""

    async def load(ids: Sequence[int]) -> list[M | None]:
        rows = await reader.scalars(select(model).where(key.in_(set(ids)), visible))
        found = {getattr(row, key.key): row for row in rows}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


def attachment_content_loader(
    reader: RequestReader, scope: Scope | None
) -> DataLoader[int, bytes | None]:
    """`AttachmentContentById` (O5): the bytes, only when asked for."""

    async def load(ids: Sequence[int]) -> list[bytes | None]:
        rows = await reader.rows(
            select(CustomerAttachment.id, CustomerAttachment.content).where(
                CustomerAttachment.id.in_(set(ids)), access.visible_customer_attachments(scope)
            )
        )
        found = {pk: bytes(content) for pk, content in rows}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


def last_customer_sync_loader(
    reader: RequestReader, scope: Scope | None
) -> DataLoader[tuple[int, int], tuple[InvoiceSyncRunItem, InvoiceSyncRun] | None]:
    """`LastInvoiceSyncByProgramAndCustomer` (S4, S7): the customer's own item (not a
    subscription's) of the newest finished invoice sync run of the program that included it."""
    unfinished = ("PENDING", "RUNNING")

    async def load(
        keys: Sequence[tuple[int, int]],
    ) -> list[tuple[InvoiceSyncRunItem, InvoiceSyncRun] | None]:
        programs = {p for p, _ in keys}
        customers = {c for _, c in keys}
        newest = (
            select(func.max(InvoiceSyncRunItem.id))
            .join(InvoiceSyncRun, InvoiceSyncRun.id == InvoiceSyncRunItem.run_id)
            .where(
                access.visible_invoice_sync_runs(scope),
                InvoiceSyncRun.program_id.in_(programs),
                InvoiceSyncRun.status.not_in(unfinished),
                InvoiceSyncRunItem.customer_id.in_(customers),
                InvoiceSyncRunItem.subscription_id.is_(None),
                InvoiceSyncRunItem.sku.is_(None),
            )
            .group_by(InvoiceSyncRun.program_id, InvoiceSyncRunItem.customer_id)
        )
        rows = await reader.rows(
            select(InvoiceSyncRunItem, InvoiceSyncRun)
            .join(InvoiceSyncRun, InvoiceSyncRun.id == InvoiceSyncRunItem.run_id)
            .where(InvoiceSyncRunItem.id.in_(newest))
        )
        found = {(run.program_id, item.customer_id): (item, run) for item, run in rows}
        return [found.get(key) for key in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """`<Thing>By<Key>` loaders, created fresh for every request."""

    def __init__(self, reader: RequestReader, scope: Scope | None) -> None:
        self.organisation_by_id = by_id_loader(
            reader, Organisation, access.visible_organisations, scope
        )
        self.customer_by_id = by_id_loader(reader, Customer, access.visible_customers, scope)
        self.user_by_id = by_id_loader(reader, User, access.visible_users, scope)
        self.api_client_by_id = by_id_loader(reader, ApiClient, access.visible_api_clients, scope)
        # Catalogue, tenants, subscriptions, invoices (O1, O7, P1-P3)
        self.program_by_id = by_id_loader(reader, Program, access.visible_catalogue, scope)
        self.product_by_id = by_id_loader(reader, Product, access.visible_catalogue, scope)
        self.prices_by_product = grouped_loader(
            reader,
            ProductPrice,
            ProductPrice.product_id,
            access.visible_catalogue(scope),
            (ProductPrice.effective_from,),
        )
        self.tenants_by_customer = grouped_loader(
            reader, Tenant, Tenant.customer_id, access.visible_tenants(scope), (Tenant.id,)
        )
        self.subscription_by_id = by_id_loader(
            reader, Subscription, access.visible_subscriptions, scope
        )
        self.subscriptions_by_customer = grouped_loader(
            reader,
            Subscription,
            Subscription.customer_id,
            access.visible_subscriptions(scope),
            (Subscription.id,),
        )
        self.quantities_by_subscription = grouped_loader(
            reader,
            SubscriptionQuantity,
            SubscriptionQuantity.subscription_id,
            SubscriptionQuantity.subscription_id.in_(
                select(Subscription.id).where(access.visible_subscriptions(scope))
            ),
            (SubscriptionQuantity.effective_from, SubscriptionQuantity.sequence),
        )
        self.invoice_by_id = by_id_loader(reader, Invoice, access.visible_invoices, scope)
        self.lines_by_invoice = grouped_loader(
            reader,
            InvoiceLine,
            InvoiceLine.invoice_id,
            InvoiceLine.invoice_id.in_(select(Invoice.id).where(access.visible_invoices(scope))),
            (InvoiceLine.position,),
        )
        self.customer_contacts_by_customer = grouped_loader(
            reader,
            CustomerContact,
            CustomerContact.customer_id,
            access.visible_customer_contacts(scope),
            (CustomerContact.created_at, CustomerContact.id),
        )
        # END catalogue loaders
        # PSA sync runs (S7)
        self.product_sync_run_by_id = by_id_loader(
            reader, ProductSyncRun, access.visible_product_sync_runs, scope
        )
        self.items_by_product_sync_run = grouped_loader(
            reader,
            ProductSyncRunItem,
            ProductSyncRunItem.run_id,
            ProductSyncRunItem.run_id.in_(
                select(ProductSyncRun.id).where(access.visible_product_sync_runs(scope))
            ),
            (ProductSyncRunItem.sku, ProductSyncRunItem.id),
        )
        # Customer mapping and invoice sync runs (S4, S7)
        self.customer_mappings_by_customer = grouped_loader(
            reader,
            CustomerMapping,
            CustomerMapping.customer_id,
            access.visible_customer_mappings(scope),
            (CustomerMapping.program_id, CustomerMapping.id),
        )
        self.invoice_sync_run_by_id = by_id_loader(
            reader, InvoiceSyncRun, access.visible_invoice_sync_runs, scope
        )
        visible_invoice_runs = select(InvoiceSyncRun.id).where(
            access.visible_invoice_sync_runs(scope)
        )
        self.items_by_invoice_sync_run = grouped_loader(
            reader,
            InvoiceSyncRunItem,
            InvoiceSyncRunItem.run_id,
            InvoiceSyncRunItem.run_id.in_(visible_invoice_runs),
            (
                InvoiceSyncRunItem.customer_name,
                InvoiceSyncRunItem.customer_id,
                InvoiceSyncRunItem.id,
            ),
        )
        self.reconciliation_by_invoice_sync_run = grouped_loader(
            reader,
            InvoiceSyncReconciliation,
            InvoiceSyncReconciliation.run_id,
            InvoiceSyncReconciliation.run_id.in_(visible_invoice_runs),
            (
                InvoiceSyncReconciliation.customer_id,
                InvoiceSyncReconciliation.sku,
                InvoiceSyncReconciliation.id,
            ),
        )
        self.last_invoice_sync_by_customer = last_customer_sync_loader(reader, scope)
        # Orders, attachments, RFIs (O2-O6)
        self.order_by_id = by_id_loader(reader, Order, access.visible_orders, scope)
        self.lines_by_order = grouped_loader(
            reader,
            OrderLine,
            OrderLine.order_id,
            OrderLine.order_id.in_(select(Order.id).where(access.visible_orders(scope))),
            (OrderLine.position,),
        )
        self.attachment_by_id = by_id_loader(
            reader, CustomerAttachment, access.visible_customer_attachments, scope
        )
        self.attachments_by_customer = grouped_loader(
            reader,
            CustomerAttachment,
            CustomerAttachment.customer_id,
            access.visible_customer_attachments(scope),
            (CustomerAttachment.id.desc(),),
        )
        self.attachment_by_order = by_key_loader(
            reader,
            CustomerAttachment,
            CustomerAttachment.order_id,
            access.visible_customer_attachments(scope),
        )
        self.attachment_content_by_id = attachment_content_loader(reader, scope)
        self.rfi_by_order = by_key_loader(
            reader, RfiRequest, RfiRequest.order_id, access.visible_rfi_requests(scope)
        )
        # Contacts (C1, R1)
        self.account_contact_by_id = by_id_loader(
            reader, AccountContact, access.visible_account_contacts, scope
        )
        self.contact_types_by_contact = contact_types_loader(reader, scope)
        self.customer_contact_by_id = by_id_loader(
            reader, CustomerContact, access.visible_customer_contacts, scope
        )
