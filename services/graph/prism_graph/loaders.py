"""Per-request DataLoaders (STYLE habit 5), filtered by the caller's scope (T3).

Every relationship field loads through one, so a page of N rows costs one statement per
relationship, not N; and since each loader only ever returns rows the caller may see, an id
of another tenant loads as missing, on every path (node, nested edge, mutation input).
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict, namedtuple
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from operator import attrgetter
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Dialect,
    Select,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import ColumnProperty
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.types import NullType
from strawberry.dataloader import DataLoader

from prism_domain.access import Scope
from prism_domain.contacts import ContactType
from prism_domain.organisations import OrganisationKind, time_zone_in_force
from prism_graph import access
from prism_graph.database import RequestReader
from prism_tables.billing import Invoice, InvoiceLine
from prism_tables.catalogue import Product, ProductPrice, Program
from prism_tables.contacts import (
    AccountContact,
    AccountContactType,
    AccountContactTypeMember,
    CustomerContact,
)
from prism_tables.customers import Customer
from prism_tables.identity import ApiClient, User
from prism_tables.orders import CustomerAttachment, Order, OrderLine, RfiRequest
from prism_tables.organisations import Organisation
from prism_tables.subscriptions import Subscription, SubscriptionQuantity
from prism_tables.sync.connections import CustomerMapping
from prism_tables.sync.invoices import (
    InvoiceSyncReconciliation,
    InvoiceSyncRun,
    InvoiceSyncRunItem,
)
from prism_tables.sync.products import ProductSyncRun, ProductSyncRunItem
from prism_tables.tenants import Tenant

M = TypeVar("M")
R = TypeVar("R")
V = TypeVar("V")


@functools.cache
def record_columns(model: type) -> tuple[Any, ...]:
    """The columns a read needs of `model`'s rows: every mapped column but the deferred ones
    (large values loaded only when asked for)."""
    mapper: Any = model.__mapper__  # type: ignore[attr-defined]
    columns = []
    for prop in mapper.column_attrs:
        if isinstance(prop, ColumnProperty) and not prop.deferred:
            column = prop.columns[0]  # the table's column: rows, not entities, come back
            columns.append(column if column.key == prop.key else column.label(prop.key))
    return tuple(columns)


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


# The parent ids of a `GroupedRows` read are an expanding bind parameter, so that a statement
# built once serves every request and SQLAlchemy finds its compiled form in its cache.
_PARENT_IDS = "prism_parent_ids"


class GroupedRows(DataLoader[int, list[Any]]):
    """`<Things>By<Parent>` as plain rows: the visible rows of each parent id, in `order_by`.

    Rows, not session entities: the types read a row's columns by name and never change it,
    and a row costs a fraction of an entity to build. Several of these for the same page can
    be read in one statement (`load_together`).
    """

    def __init__(
        self,
        reader: RequestReader,
        model: type,
        key: Any,
        visible: ColumnElement[bool],
        order_by: Sequence[Any],
    ) -> None:
        super().__init__(load_fn=self._load)
        self.reader = reader
        self.columns = record_columns(model)
        self.record = _record_type(model)
        self.key = key
        self.visible = visible
        self.order_by = tuple(order_by)
        sort_keys = tuple(_sort_key(element) for element in self.order_by)
        self._sort_keys = sort_keys[::-1]
        # What the read is, apart from the caller's scope (`filter_key` adds that).
        self.shape: Hashable = (model, str(key.key), sort_keys)

    @functools.cached_property
    def filter_key(self) -> Hashable | None:
        """The visibility filter as a value: equal keys are the same SQL condition, bound
        values (the scope's ids) included; None when it cannot be told apart safely."""
        return _condition_key(self.visible)

    def statement(self) -> Select[Any]:
        """The visible rows whose key is one of the ids bound as `_PARENT_IDS`, unordered."""
        ids = bindparam(_PARENT_IDS, expanding=True, type_=self.key.type)
        return select(*self.columns).where(self.key.in_(ids), self.visible)

    def group(self, ids: Sequence[int], rows: Iterable[Any]) -> dict[int, list[Any]]:
        found: dict[int, list[Any]] = {i: [] for i in ids}
        for row in rows:
            found[getattr(row, self.key.key)].append(row)
        return found

    async def rows_of(self, ids: Sequence[int]) -> Sequence[Any]:
        filters = self.filter_key
        statement = _STATEMENTS.get(
            None if filters is None else ("rows", self.shape, filters),
            lambda: self.statement().order_by(*self.order_by),
        )
        return await self.reader.core_rows(statement, {_PARENT_IDS: list(set(ids))})

    def in_order(self, rows: list[Any]) -> list[Any]:
        """`rows` in `order_by` (stable sorts from the last key to the first)."""
        for name, descending in self._sort_keys:
            rows.sort(key=attrgetter(name), reverse=descending)
        return rows

    async def _load(self, ids: Sequence[int]) -> list[list[Any]]:
        found = self.group(ids, await self.rows_of(ids))
        return [found[i] for i in ids]


class _Reused(Generic[V]):
    """Things built once and reused, by a key of everything they are made of (bounded, the
    least recently used dropped first); a `None` key (a part that cannot be keyed) builds
    afresh. Statements are kept here, with the values bound in their filters, never rows."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable | None, build: Callable[[], V]) -> V:
        if key is None:
            return build()
        entries = self._entries
        try:
            entries.move_to_end(key)
            return entries[key]
        except KeyError:
            pass
        built = entries[key] = build()
        if len(entries) > self._size:
            entries.popitem(last=False)
        return built


# Statements by what they are made of: a loader's shape, a plan, the filters (the scope's
# bound values included, so each scope has its own), never the parent ids.
_STATEMENTS: _Reused[Any] = _Reused(size=256)


def _condition_key(condition: ColumnElement[bool]) -> Hashable | None:
    """`condition` as a hashable value: SQLAlchemy's cache key of its structure (columns,
    operators, subqueries, bind parameter types) with the values bound in it, each with its
    type, so that two keys are equal only for the same SQL condition over the same values."""
    cache_key = condition._generate_cache_key()
    if cache_key is None:
        return None
    try:
        key = (cache_key.key, tuple(_frozen(p.effective_value) for p in cache_key.bindparams))
        hash(key)
    except TypeError:  # a value that cannot be hashed: no reuse
        return None
    return key


def _frozen(value: Any) -> Hashable:
    """`value` with its type, lists (an IN's values) as tuples, sets as frozensets."""
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(v) for v in value))
    if isinstance(value, set | frozenset):
        return (type(value), frozenset(_frozen(v) for v in value))
    return (type(value), value)


class _Plan:
    """How several `GroupedRows` reads share one UNION ALL on a dialect, and how to read each
    one's rows back: what does not depend on the request."""

    def __init__(self, loaders: Sequence[GroupedRows], dialect: Dialect) -> None:
        # Slots are shared between loaders by SQL type (an INTEGER slot holds a tenant's id in
        # tenant rows and a subscription's quantity in subscription rows), so a row is as wide
        # as the widest need per type, not the sum of every loader's columns.
        slot_types: list[tuple[str, Any]] = []
        placements: list[list[int]] = []
        for loader in loaders:
            taken: list[int] = []
            for column in loader.columns:
                kind = _sql_kind(column, dialect)
                slot = next(
                    (i for i, (k, _) in enumerate(slot_types) if k == kind and i not in taken),
                    None,
                )
                if slot is None:
                    slot = len(slot_types)
                    slot_types.append((kind, column.type))
                taken.append(slot)
            placements.append(taken)
        self.slot_types = tuple(slot_types)
        self.placements = tuple(tuple(taken) for taken in placements)
        # Raw values come back; each member's own are converted by its own column types.
        self.readers = tuple(
            _row_reader(loader, [slot + 1 for slot in taken], dialect)  # after the member
            for loader, taken in zip(loaders, placements, strict=True)
        )

    def statement(self, loaders: Sequence[GroupedRows]) -> CompoundSelect[Any]:
        # Raw values on the way out (the types are the loaders' own, converted on reading),
        # and each loader's order is restored in Python: ordering inside a compound statement
        # (a window per member) costs SQLite more than the whole read.
        members = []
        for number, (loader, taken) in enumerate(zip(loaders, self.placements, strict=True)):
            own = dict(zip(taken, loader.columns, strict=True))
            members.append(
                loader.statement().with_only_columns(
                    literal(number).label("prism_member"),
                    *(
                        type_coerce(own[i] if i in own else cast(null(), type_), NullType()).label(
                            f"c{i}"
                        )
                        for i, (_, type_) in enumerate(self.slot_types)
                    ),
                    maintain_column_froms=True,
                )
            )
        return union_all(*members)


def _row_reader(
    loader: GroupedRows, picks: Sequence[int], dialect: Dialect
) -> Callable[[Sequence[Any]], Any]:
    """A row of the union to one of `loader`'s rows: its own slots (`picks`, in its column
    order), converted from the database's form by its column types."""
    processors = [
        c.type.dialect_impl(dialect).result_processor(dialect, None) for c in loader.columns
    ]
    make = loader.record._make
    steps = tuple(zip(picks, processors, strict=True))

    def read(row: Sequence[Any]) -> Any:
        return make(
            [
                process(value) if (value := row[i]) is not None and process else value
                for i, process in steps
            ]
        )

    return read


async def load_together(
    reader: RequestReader, ids: Sequence[int], loaders: Sequence[GroupedRows]
) -> None:
    """Read the rows of several `GroupedRows` loaders for the same parent ids in one statement
    and prime the loaders with them, so that the fields that ask next find them loaded.

    The reads are glued with UNION ALL: each loader's columns get their own slots (NULL, typed
    as the column, in the other loaders' rows) and a member number, so each loader gets back
    exactly its rows, still filtered by its visibility rule, and puts them in its own order.
    Values are converted from the database's form by each loader's own column types, for its
    own slots only. The plan is made once per set of loaders and dialect, and the statement
    once per plan and visibility filters (the filters' bound values, i.e. the scope, are part
    of its key): the parent ids are its only parameter.
    """
    loaders = list(dict.fromkeys(loaders))
    if not ids or not loaders:
        return
    if len(loaders) == 1:
        loader = loaders[0]
        loader.prime_many(loader.group(ids, await loader.rows_of(ids)))
        return
    dialect = reader.session.get_bind().dialect
    shapes = tuple(loader.shape for loader in loaders)
    plan_key = (shapes, dialect)
    plan = _PLANS.get(plan_key, lambda: _Plan(loaders, dialect))
    filters = tuple(loader.filter_key for loader in loaders)
    statement = _STATEMENTS.get(
        None if any(f is None for f in filters) else ("union", plan_key, filters),
        lambda: plan.statement(loaders),
    )
    rows = await reader.core_rows(statement, {_PARENT_IDS: list(set(ids))})
    readers = plan.readers
    by_member: list[list[Any]] = [[] for _ in loaders]
    for row in rows:
        number = row[0]
        by_member[number].append(readers[number](row))
    for loader, member_rows in zip(loaders, by_member, strict=True):
        loader.prime_many(loader.group(ids, loader.in_order(member_rows)))


_PLANS: _Reused[_Plan] = _Reused(size=64)


@functools.cache
def _record_type(model: type) -> Any:
    """A named tuple of `model`'s record columns (made once per model, not per request)."""
    return namedtuple(model.__name__ + "Row", [c.key for c in record_columns(model)])


def _sort_key(element: Any) -> tuple[str, bool]:
    """(attribute, descending) of an `order_by` element: a mapped column, maybe `.desc()`."""
    descending = getattr(element, "modifier", None) is operators.desc_op
    column = element.element if isinstance(element, UnaryExpression) else element
    return str(column.key), descending


def _sql_kind(column: Any, dialect: Dialect) -> str:
    """The SQL type of a column without its length or precision ("VARCHAR", "INTEGER")."""
    compiled = dialect.type_compiler_instance.process(column.type.dialect_impl(dialect))
    return compiled.partition("(")[0].strip().upper()


def now_or_later(
    loader: DataLoader[int, R], key: int, convert: Callable[[R], M]
) -> M | Awaitable[M]:
    """What `loader` holds for `key`, converted: at once when it is already loaded (primed by
    `load_together`), else once it is. A field resolver that returns this is synchronous on
    the fast path, which spares the executor a coroutine and a task per object."""
    future = loader.load(key)
    if (
        isinstance(future, asyncio.Future)
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return convert(future.result())
    return _converted(future, convert)


async def _converted(future: Awaitable[R], convert: Callable[[R], M]) -> M:
    return convert(await future)


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


def time_zone_loader(reader: RequestReader, scope: Scope | None) -> DataLoader[int, str]:
    async def load(ids: Sequence[int]) -> list[str]:
        rows = await reader.rows(
            select(Organisation.id, Organisation.kind, Organisation.time_zone).where(
                or_(
                    Organisation.id.in_(set(ids)),
                    Organisation.kind == OrganisationKind.DISTRIBUTOR,
                ),
                access.visible_organisations(scope),
            )
        )
        own = {pk: zone for pk, _, zone in rows}
        distributor = next(
            (zone for _, kind, zone in rows if kind is OrganisationKind.DISTRIBUTOR), None
        )
        return [time_zone_in_force(own.get(i), distributor) for i in ids]

    return DataLoader(load_fn=load)


class Loaders:
    """`<Thing>By<Key>` loaders, created fresh for every request, each on first use: a page
    uses a few of them, and building them all cost more than reading its children."""

    def __init__(self, reader: RequestReader, scope: Scope | None) -> None:
        self.reader = reader
        self.scope = scope

    @functools.cached_property
    def organisation_by_id(self) -> DataLoader[int, Organisation | None]:
        return by_id_loader(self.reader, Organisation, access.visible_organisations, self.scope)

    @functools.cached_property
    def time_zone_by_organisation(self) -> DataLoader[int, str]:
        """`TimeZoneByOrganisation`: the zone in force (its own, else the distributor's, else
        UTC) of each organisation, with the distributor's, in one statement."""
        return time_zone_loader(self.reader, self.scope)

    @functools.cached_property
    def customer_by_id(self) -> DataLoader[int, Customer | None]:
        return by_id_loader(self.reader, Customer, access.visible_customers, self.scope)

    @functools.cached_property
    def user_by_id(self) -> DataLoader[int, User | None]:
        return by_id_loader(self.reader, User, access.visible_users, self.scope)

    @functools.cached_property
    def api_client_by_id(self) -> DataLoader[int, ApiClient | None]:
        return by_id_loader(self.reader, ApiClient, access.visible_api_clients, self.scope)

    # Catalogue, tenants, subscriptions, invoices (O1, O7, P1-P3)

    @functools.cached_property
    def program_by_id(self) -> DataLoader[int, Program | None]:
        return by_id_loader(self.reader, Program, access.visible_catalogue, self.scope)

    @functools.cached_property
    def product_by_id(self) -> DataLoader[int, Product | None]:
        return by_id_loader(self.reader, Product, access.visible_catalogue, self.scope)

    @functools.cached_property
    def prices_by_product(self) -> DataLoader[int, list[ProductPrice]]:
        return grouped_loader(
            self.reader,
            ProductPrice,
            ProductPrice.product_id,
            access.visible_catalogue(self.scope),
            (ProductPrice.effective_from,),
        )

    @functools.cached_property
    def tenants_by_customer(self) -> GroupedRows:
        return GroupedRows(
            self.reader,
            Tenant,
            Tenant.customer_id,
            access.visible_tenants(self.scope),
            (Tenant.id,),
        )

    @functools.cached_property
    def subscription_by_id(self) -> DataLoader[int, Subscription | None]:
        return by_id_loader(self.reader, Subscription, access.visible_subscriptions, self.scope)

    @functools.cached_property
    def subscriptions_by_customer(self) -> GroupedRows:
        return GroupedRows(
            self.reader,
            Subscription,
            Subscription.customer_id,
            access.visible_subscriptions(self.scope),
            (Subscription.id,),
        )

    @functools.cached_property
    def quantities_by_subscription(self) -> GroupedRows:
        return GroupedRows(
            self.reader,
            SubscriptionQuantity,
            SubscriptionQuantity.subscription_id,
            SubscriptionQuantity.subscription_id.in_(
                select(Subscription.id).where(access.visible_subscriptions(self.scope))
            ),
            (SubscriptionQuantity.effective_from, SubscriptionQuantity.sequence),
        )

    @functools.cached_property
    def invoice_by_id(self) -> DataLoader[int, Invoice | None]:
        return by_id_loader(self.reader, Invoice, access.visible_invoices, self.scope)

    @functools.cached_property
    def lines_by_invoice(self) -> DataLoader[int, list[InvoiceLine]]:
        return grouped_loader(
            self.reader,
            InvoiceLine,
            InvoiceLine.invoice_id,
            InvoiceLine.invoice_id.in_(
                select(Invoice.id).where(access.visible_invoices(self.scope))
            ),
            (InvoiceLine.position,),
        )

    @functools.cached_property
    def customer_contacts_by_customer(self) -> GroupedRows:
        return GroupedRows(
            self.reader,
            CustomerContact,
            CustomerContact.customer_id,
            access.visible_customer_contacts(self.scope),
            (CustomerContact.created_at, CustomerContact.id),
        )

    # PSA sync runs (S7)

    @functools.cached_property
    def product_sync_run_by_id(self) -> DataLoader[int, ProductSyncRun | None]:
        return by_id_loader(
            self.reader, ProductSyncRun, access.visible_product_sync_runs, self.scope
        )

    @functools.cached_property
    def items_by_product_sync_run(self) -> DataLoader[int, list[ProductSyncRunItem]]:
        return grouped_loader(
            self.reader,
            ProductSyncRunItem,
            ProductSyncRunItem.run_id,
            ProductSyncRunItem.run_id.in_(
                select(ProductSyncRun.id).where(access.visible_product_sync_runs(self.scope))
            ),
            (ProductSyncRunItem.sku, ProductSyncRunItem.id),
        )

    # Customer mapping and invoice sync runs (S4, S7)

    @functools.cached_property
    def customer_mappings_by_customer(self) -> DataLoader[int, list[CustomerMapping]]:
        return grouped_loader(
            self.reader,
            CustomerMapping,
            CustomerMapping.customer_id,
            access.visible_customer_mappings(self.scope),
            (CustomerMapping.program_id, CustomerMapping.id),
        )

    @functools.cached_property
    def invoice_sync_run_by_id(self) -> DataLoader[int, InvoiceSyncRun | None]:
        return by_id_loader(
            self.reader, InvoiceSyncRun, access.visible_invoice_sync_runs, self.scope
        )

    @functools.cached_property
    def items_by_invoice_sync_run(self) -> DataLoader[int, list[InvoiceSyncRunItem]]:
        return grouped_loader(
            self.reader,
            InvoiceSyncRunItem,
            InvoiceSyncRunItem.run_id,
            InvoiceSyncRunItem.run_id.in_(_visible_invoice_runs(self.scope)),
            (
                InvoiceSyncRunItem.customer_name,
                InvoiceSyncRunItem.customer_id,
                InvoiceSyncRunItem.id,
            ),
        )

    @functools.cached_property
    def reconciliation_by_invoice_sync_run(
        self,
    ) -> DataLoader[int, list[InvoiceSyncReconciliation]]:
        return grouped_loader(
            self.reader,
            InvoiceSyncReconciliation,
            InvoiceSyncReconciliation.run_id,
            InvoiceSyncReconciliation.run_id.in_(_visible_invoice_runs(self.scope)),
            (
                InvoiceSyncReconciliation.customer_id,
                InvoiceSyncReconciliation.sku,
                InvoiceSyncReconciliation.id,
            ),
        )

    @functools.cached_property
    def last_invoice_sync_by_customer(
        self,
    ) -> DataLoader[tuple[int, int], tuple[InvoiceSyncRunItem, InvoiceSyncRun] | None]:
        return last_customer_sync_loader(self.reader, self.scope)

    # Orders, attachments, RFIs (O2-O6)

    @functools.cached_property
    def order_by_id(self) -> DataLoader[int, Order | None]:
        return by_id_loader(self.reader, Order, access.visible_orders, self.scope)

    @functools.cached_property
    def lines_by_order(self) -> DataLoader[int, list[OrderLine]]:
        return grouped_loader(
            self.reader,
            OrderLine,
            OrderLine.order_id,
            OrderLine.order_id.in_(select(Order.id).where(access.visible_orders(self.scope))),
            (OrderLine.position,),
        )

    @functools.cached_property
    def attachment_by_id(self) -> DataLoader[int, CustomerAttachment | None]:
        return by_id_loader(
            self.reader, CustomerAttachment, access.visible_customer_attachments, self.scope
        )

    @functools.cached_property
    def attachments_by_customer(self) -> DataLoader[int, list[CustomerAttachment]]:
        return grouped_loader(
            self.reader,
            CustomerAttachment,
            CustomerAttachment.customer_id,
            access.visible_customer_attachments(self.scope),
            (CustomerAttachment.id.desc(),),
        )

    @functools.cached_property
    def attachment_by_order(self) -> DataLoader[int, CustomerAttachment | None]:
        return by_key_loader(
            self.reader,
            CustomerAttachment,
            CustomerAttachment.order_id,
            access.visible_customer_attachments(self.scope),
        )

    @functools.cached_property
    def attachment_content_by_id(self) -> DataLoader[int, bytes | None]:
        return attachment_content_loader(self.reader, self.scope)

    @functools.cached_property
    def rfi_by_order(self) -> DataLoader[int, RfiRequest | None]:
        return by_key_loader(
            self.reader, RfiRequest, RfiRequest.order_id, access.visible_rfi_requests(self.scope)
        )

    # Contacts (C1, R1)

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


def _visible_invoice_runs(scope: Scope | None) -> Select[int]:
    return select(InvoiceSyncRun.id).where(access.visible_invoice_sync_runs(scope))
