"""GraphQL types of the PSA sync (S1-S3, S7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.sync import ConnectionProblem, ConnectionStatus, ProductSyncMode
from prism_graph.common.connections import Counted
from prism_graph.common.errors import UserError
from prism_graph.common.ids import decode_id
from prism_graph.context import Info
from prism_graph.sync import service
from prism_graph.sync.common import SyncItemOutcome, SyncRunStatus
from prism_graph.sync.config import psa_config
from prism_psa.outcomes import ItemOutcome, RunStatus
from prism_psa.port import Choice
from prism_psa.products.planning import Action, PlannedItem
from prism_tables.sync.connections import ProgramSyncSettings as SettingsRow
from prism_tables.sync.connections import PsaConnection as ConnectionRow
from prism_tables.sync.products import ProductSyncRun as RunRow
from prism_tables.sync.products import ProductSyncRunItem as RunItemRow

PsaConnectionStatus = strawberry.enum(ConnectionStatus, name="PsaConnectionStatus")
PsaConnectionProblem = strawberry.enum(
    ConnectionProblem,
    name="PsaConnectionProblem",
    description="Which part of the credentials the PSA refused.",
)
ProductSyncModeEnum = strawberry.enum(ProductSyncMode, name="ProductSyncMode")
ProductSyncAction = strawberry.enum(Action, name="ProductSyncAction")


class ProductSyncTriggerKind(StrEnum):
    MANUAL = "MANUAL"
    PRICE_CHANGED = "PRICE_CHANGED"


ProductSyncTrigger = strawberry.enum(ProductSyncTriggerKind, name="ProductSyncTrigger")


@strawberry.type(description="A partner's PSA connection (S1); the secret is never shown.")
class PsaConnection:
    psa: str
    username: str
    zone_url: str | None = strawberry.field(description="The Autotask zone's API address.")
    status: PsaConnectionStatus  # type: ignore[valid-type]
    problem: PsaConnectionProblem | None  # type: ignore[valid-type]
    status_message: str | None
    last_tested_at: datetime | None
    updated_at: datetime
    partner_pk: strawberry.Private[int]

    @strawberry.field(
        description="The Autotask request budget in use now (N3): the requests every worker "
        "and screen of Prism counted against this Autotask database in the rolling window; "
        "null when it cannot be read (zone unknown, or a limiter store without reads)."
    )
    async def request_budget(self, info: Info) -> PsaRequestBudget | None:
        use = await service.request_budget(info.context.database, psa_config(info), self.partner_pk)
        if use is None:
            return None
        return PsaRequestBudget(
            used=use.used,
            limit=use.limit,
            remaining=use.remaining,
            window_seconds=use.window_seconds,
        )

    @classmethod
    def from_row(cls, row: ConnectionRow) -> PsaConnection:
        return cls(
            partner_pk=row.partner_id,
            psa=row.psa,
            username=row.username,
            zone_url=row.zone_url,
            status=ConnectionStatus(row.status),
            problem=ConnectionProblem(row.problem) if row.problem else None,
            status_message=row.status_message,
            last_tested_at=row.tested_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="Autotask requests counted in the rolling window (N3).")
class PsaRequestBudget:
    used: int = strawberry.field(description="Requests counted in the current window.")
    limit: int = strawberry.field(description="Prism's share of Autotask's hourly limit.")
    remaining: int
    window_seconds: int


@strawberry.input(description="An Autotask API user (S1).")
class PsaCredentialsInput:
    username: str
    secret: str = strawberry.field(description="The API user's secret; stored encrypted.")
    integration_code: str = strawberry.field(description="The API tracking identifier.")


@strawberry.type
class TestPsaConnectionPayload:
    ok: bool
    zone_url: str | None
    problem: PsaConnectionProblem | None  # type: ignore[valid-type]
    errors: list[UserError]


@strawberry.type
class PsaConnectionPayload:
    connection: PsaConnection | None
    errors: list[UserError]


@strawberry.type(description="One entry of a live PSA picker.")
class PsaChoice:
    id: int
    name: str
    detail: str | None

    @classmethod
    def of(cls, choice: Choice) -> PsaChoice:
        return cls(id=choice.id, name=choice.name, detail=choice.detail)


@strawberry.type(description="One entry of a live PSA picker page, with its cursor.")
class PsaChoiceEdge:
    node: PsaChoice
    cursor: str = strawberry.field(description="Pass as `after` to continue after this entry.")


@strawberry.type(
    description="A page of a live PSA picker, in the PSA's own order (Autotask cannot sort: "
    "by id); narrow it with `search`."
)
class PsaChoiceConnection:
    edges: list[PsaChoiceEdge]
    page_info: relay.PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many entries match the picker's filters on all pages, not only this "
        "one (one more request to the PSA, made only when asked for)."
    )
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type(description="How one program syncs to the partner's PSA (S2).")
class ProgramSyncSettings:
    program_id: strawberry.ID
    sync_enabled: bool
    product_sync_mode: ProductSyncModeEnum  # type: ignore[valid-type]
    sync_azure_usage: bool
    billing_code: PsaChoice | None
    vendor: PsaChoice | None
    notification_emails: list[str]
    updated_at: datetime

    @classmethod
    def from_row(cls, row: SettingsRow, program_gid: str) -> ProgramSyncSettings:
        return cls(
            program_id=strawberry.ID(program_gid),
            sync_enabled=row.sync_enabled,
            product_sync_mode=ProductSyncMode(row.product_sync_mode),
            sync_azure_usage=row.sync_azure_usage,
            billing_code=PsaChoice(
                id=row.billing_code_id, name=row.billing_code_name or "", detail=None
            )
            if row.billing_code_id is not None
            else None,
            vendor=PsaChoice(
                id=row.vendor_company_id, name=row.vendor_company_name or "", detail=None
            )
            if row.vendor_company_id is not None
            else None,
            notification_emails=list(row.notification_emails or []),
            updated_at=row.updated_at,
        )


@strawberry.input
class ProgramSyncSettingsInput:
    program_id: strawberry.relay.GlobalID
    sync_enabled: bool
    product_sync_mode: ProductSyncModeEnum  # type: ignore[valid-type]
    sync_azure_usage: bool = False
    billing_code_id: int | None = strawberry.field(
        default=None, description="From psaBillingCodes (recurring-contract codes only)."
    )
    vendor_company_id: int | None = strawberry.field(
        default=None, description="Optional, from psaCompanies(vendorsOnly: true)."
    )
    notification_emails: list[str] = strawberry.field(default_factory=list)


@strawberry.type
class ProgramSyncSettingsPayload:
    settings: ProgramSyncSettings | None
    errors: list[UserError]


@strawberry.type(description="What a product sync would do (or did) for one product.")
class ProductSyncPlanItem:
    sku: str
    product_name: str
    action: ProductSyncAction  # type: ignore[valid-type]
    service_id: int | None
    service_name: str | None
    unit_price: Decimal | None
    unit_cost: Decimal | None
    warnings: list[str]
    message: str | None

    @classmethod
    def of(cls, item: PlannedItem) -> ProductSyncPlanItem:
        return cls(
            sku=item.sku,
            product_name=item.product_name,
            action=item.action,
            service_id=item.service_id,
            service_name=item.service_name,
            unit_price=item.unit_price,
            unit_cost=item.unit_cost,
            warnings=list(item.warnings),
            message=item.message,
        )


@strawberry.type
class ProductSyncPreviewPayload:
    items: list[ProductSyncPlanItem]
    creates: int = strawberry.field(description="Services a sync would create (or re-create).")
    updates: int = strawberry.field(description="Services whose price and cost would change.")
    failures: int = strawberry.field(description="Products a sync would report as errors.")
    errors: list[UserError]


@strawberry.type
class SyncProductsPayload:
    requested: bool
    errors: list[UserError]


@strawberry.type
class MapProductToServicePayload:
    service: PsaChoice | None
    errors: list[UserError]


@strawberry.input(description="Which program's products to sync to your PSA now.")
class SyncProductsInput:
    program_id: strawberry.relay.GlobalID = strawberry.field(
        description="A program of the catalogue whose sync settings are saved."
    )


@strawberry.input(description="Map a (retired) product by hand to an existing PSA service.")
class MapProductToServiceInput:
    product_id: strawberry.relay.GlobalID
    service_id: int


@strawberry.type(description="One product of a product sync run (S7).")
class ProductSyncRunItem:
    sku: str
    product_name: str
    action: ProductSyncAction  # type: ignore[valid-type]
    outcome: SyncItemOutcome  # type: ignore[valid-type]
    service_id: int | None
    service_name: str | None
    unit_price: Decimal | None
    unit_cost: Decimal | None
    message: str | None

    @classmethod
    def from_row(cls, row: RunItemRow) -> ProductSyncRunItem:
        return cls(
            sku=row.sku,
            product_name=row.product_name,
            action=Action(row.action),
            outcome=ItemOutcome(row.outcome),
            service_id=row.service_id,
            service_name=row.service_name,
            unit_price=Decimal(row.unit_price) if row.unit_price is not None else None,
            unit_cost=Decimal(row.unit_cost) if row.unit_cost is not None else None,
            message=row.message,
        )


@strawberry.type(description="One product sync run (S7): when, why, how it went, counts.")
class ProductSyncRun(relay.Node):
    id: relay.NodeID[int]
    trigger: ProductSyncTrigger  # type: ignore[valid-type]
    status: SyncRunStatus  # type: ignore[valid-type]
    started_at: datetime
    finished_at: datetime | None
    products_considered: int
    products_synced: int
    created: int
    updated: int
    unchanged: int
    failed: int
    warnings: int
    message: str | None

    @classmethod
    def from_row(cls, row: RunRow) -> ProductSyncRun:
        return cls(
            id=row.id,
            trigger=ProductSyncTriggerKind(row.trigger),
            status=RunStatus(row.status),
            started_at=row.started_at,
            finished_at=row.finished_at,
            products_considered=row.products_considered,
            products_synced=row.products_synced,
            created=row.created,
            updated=row.updated,
            unchanged=row.unchanged,
            failed=row.failed,
            warnings=row.warnings,
            message=row.message,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[ProductSyncRun | None]:
        loader = info.context.loaders.product_sync_run_by_id
        rows = await loader.load_many([decode_id(i) for i in node_ids])
        return [cls.from_row(r) if r else None for r in rows]

    @strawberry.field(description="The run's products, by SKU (S7 Sync Status screen).")
    async def items(self, info: Info) -> list[ProductSyncRunItem]:
        rows = await info.context.loaders.items_by_product_sync_run.load(self.id)
        return [ProductSyncRunItem.from_row(r) for r in rows]


@strawberry.type(description="A page of product sync runs, newest first (S7 history).")
class ProductSyncRunConnection(Counted, relay.Connection[ProductSyncRun]):
    pass


@strawberry.type(description="The products card (S7): last successful sync and last run.")
class ProductSyncOverview:
    last_successful_at: datetime | None
    last_run: ProductSyncRun | None
