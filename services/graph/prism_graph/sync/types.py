"""GraphQL types of the PSA connection, program settings and product sync (issue 7)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import strawberry
from strawberry import relay

from prism_domain.sync import ConnectionProblem, ConnectionStatus, ProductSyncMode, PsaKind
from prism_graph.common.connections import Counted
from prism_graph.common.enums import described_enum
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

Psa = described_enum(
    PsaKind,
    name="Psa",
    description="A PSA Prism syncs to. A partner may connect to both; each program syncs to "
    "one of them (its sync settings say which).",
    values={
        "AUTOTASK": "Datto Autotask PSA: services, Recurring Service contracts and their "
        "contract-service adjustments.",
        "CONNECTWISE": "ConnectWise PSA (formerly Manage): catalog products, agreements and "
        "their additions.",
    },
)
PsaConnectionStatus = described_enum(
    ConnectionStatus,
    name="PsaConnectionStatus",
    description="Whether the stored PSA credentials worked the last time they were used.",
    values={
        "UNTESTED": "Not tested yet.",
        "OK": "The PSA accepted them at the last test.",
        "FAILING": "The PSA refused them at the last test or during a sync: see `problem` "
        "and `statusMessage`.",
    },
)
PsaConnectionProblem = described_enum(
    ConnectionProblem,
    name="PsaConnectionProblem",
    description="Why the PSA refused a connection; the accompanying message says what to do.",
    values={
        "UNKNOWN_USER": "The PSA knows no such sign-in: Autotask no API user with this "
        "username, ConnectWise no company with this company id at this site.",
        "WRONG_SECRET": "The PSA refused the credentials without saying why: check the secret "
        "(Autotask) or the key pair (ConnectWise), and that the user is not locked.",
        "USER_LOCKED": "Autotask says the API user is locked: an Autotask administrator must "
        "unlock it (Admin > Resources (Users)).",
        "USER_INACTIVE": "The PSA says the API user or member is not active: an administrator "
        "must make it active again.",
        "INVALID_INTEGRATION_CODE": "Autotask refused the integration code (the API tracking "
        "identifier), or ConnectWise refused this server's clientId.",
        "PERMISSION_DENIED": "The API user's security level (Autotask) or the member's security "
        "role (ConnectWise) does not allow what the sync needs.",
        "UNREACHABLE": "The PSA could not be reached, or is limiting requests; try again later.",
        "UNEXPECTED": "The PSA answered with an unexpected error; try again later.",
    },
)
ProductSyncModeEnum = described_enum(
    ProductSyncMode,
    name="ProductSyncMode",
    description="Which of a program's products the product sync keeps as PSA services.",
    values={
        "ALL": "Every product of the program's price list.",
        "IN_USE": "Only products on invoices of customers whose sync is on.",
    },
)
ProductSyncAction = described_enum(
    Action,
    name="ProductSyncAction",
    description="What the product sync does (or would do) for one product.",
    values={
        "CREATE": "Create its service in the PSA.",
        "UPDATE_PRICE": "Change its service's unit price and cost to the price list's.",
        "RECREATE": "Create its service again: the one Prism created is gone from the PSA.",
        "SKIP": "Nothing to write: the service already has the price list's prices, or the "
        "product is not the sync's to write.",
        "ERROR": "Cannot sync it; the message says why and what to do.",
    },
)


class ProductSyncTriggerKind(StrEnum):
    MANUAL = "MANUAL"
    PRICE_CHANGED = "PRICE_CHANGED"


ProductSyncTrigger = described_enum(
    ProductSyncTriggerKind,
    name="ProductSyncTrigger",
    description="What started a product sync run.",
    values={
        "MANUAL": "Someone asked for it (syncProducts, or the command line).",
        "PRICE_CHANGED": "A price of the program's price list changed.",
    },
)


@strawberry.type(
    description="Your partner's connection to one PSA (Autotask or ConnectWise): who it signs "
    "in as and how its last test went. Secrets and keys are never shown."
)
class PsaConnection:
    psa: str = strawberry.field(description='Which PSA: "AUTOTASK" or "CONNECTWISE".')
    kind: Psa = strawberry.field(  # type: ignore[valid-type]
        description="Which PSA, as an enum value (the same as `psa`)."
    )
    username: str = strawberry.field(
        description="Autotask: the API user's username. ConnectWise: the company id the API "
        "member signs in with."
    )
    site: str | None = strawberry.field(
        description="ConnectWise: the API host (for example api-na.myconnectwise.net); null "
        "for Autotask."
    )
    zone_url: str | None = strawberry.field(
        description="The API address the PSA answered from: Autotask's zone, or ConnectWise's "
        "site and codebase."
    )
    status: PsaConnectionStatus = strawberry.field(  # type: ignore[valid-type]
        description="Whether the credentials worked the last time they were used."
    )
    problem: PsaConnectionProblem | None = strawberry.field(  # type: ignore[valid-type]
        description="Why the PSA refused them, while the status is FAILING; else null."
    )
    status_message: str | None = strawberry.field(
        description="What went wrong and what to do about it, while FAILING; else null."
    )
    last_tested_at: datetime | None = strawberry.field(
        description="When the credentials were last tested (or refused during a sync)."
    )
    updated_at: datetime = strawberry.field(description="When the connection last changed.")
    partner_pk: strawberry.Private[int]

    @strawberry.field(
        description="The request budget in use now: the requests every worker and screen of "
        "Prism counted against this PSA database in the rolling window, and the most Prism "
        "sends in one (Autotask: its published 10,000 an hour, less a margin; ConnectWise, "
        "which publishes none, Prism's own 900 a minute, below the 1,000 its guide warns "
        "of); null when it cannot be read (Autotask's zone unknown, or a limiter store "
        "without reads)."
    )
    async def request_budget(self, info: Info) -> PsaRequestBudget | None:
        use = await service.request_budget(
            info.context.database, psa_config(info), self.partner_pk, self.kind
        )
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
            kind=PsaKind(row.psa),
            username=row.username,
            site=row.site,
            zone_url=row.zone_url,
            status=ConnectionStatus(row.status),
            problem=ConnectionProblem(row.problem) if row.problem else None,
            status_message=row.status_message,
            last_tested_at=row.tested_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="Autotask requests counted in the rolling window.")
class PsaRequestBudget:
    used: int = strawberry.field(description="Requests counted in the current window.")
    limit: int = strawberry.field(description="Prism's share of Autotask's hourly limit.")
    remaining: int = strawberry.field(description="Requests left in the window: limit - used.")
    window_seconds: int = strawberry.field(description="The length of the rolling window.")


@strawberry.input(description="An Autotask API user (API-only security level) to connect with.")
class PsaCredentialsInput:
    username: str = strawberry.field(description="The API user's username (an e-mail address).")
    secret: str = strawberry.field(description="The API user's secret; stored encrypted.")
    integration_code: str = strawberry.field(
        description="The API user's tracking identifier (integration code); stored encrypted."
    )


@strawberry.input(
    description="A ConnectWise API member to connect with (System > Members > API Members): "
    "the site, the company id and the member's key pair."
)
class ConnectWiseCredentialsInput:
    site: str = strawberry.field(
        description="The ConnectWise API host, for example api-na.myconnectwise.net (cloud "
        "hosts start with api-), or your own server's host name."
    )
    company_id: str = strawberry.field(
        description="The company id you sign in to ConnectWise with."
    )
    public_key: str = strawberry.field(description="The API member's public key; stored encrypted.")
    private_key: str = strawberry.field(
        description="The API member's private key; stored encrypted."
    )


@strawberry.input(description="Which stored connection to test again.")
class RetestPsaConnectionInput:
    psa: Psa = strawberry.field(  # type: ignore[valid-type]
        default=PsaKind.AUTOTASK,
        description="The PSA whose connection to test; Autotask by default.",
    )


@strawberry.type(description="The result of testing credentials against the PSA.")
class TestPsaConnectionPayload:
    ok: bool = strawberry.field(description="The PSA accepted the credentials.")
    zone_url: str | None = strawberry.field(
        description="The API address the PSA answered from (Autotask's zone, ConnectWise's "
        "site and codebase), when accepted."
    )
    problem: PsaConnectionProblem | None = strawberry.field(  # type: ignore[valid-type]
        description="Why the PSA refused them; null when accepted or when the input was invalid."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing could be confirmed: invalid input, or the PSA's refusal with "
        "what to do."
    )


@strawberry.type(description="The connection after saving or re-testing it.")
class PsaConnectionPayload:
    connection: PsaConnection | None = strawberry.field(
        description="The connection as stored now; null when nothing was saved."
    )
    errors: list[UserError] = strawberry.field(
        description="Why nothing was saved (invalid input, or the PSA refused the credentials)."
    )


@strawberry.type(description="One entry of a live PSA picker (a billing code, company, contract).")
class PsaChoice:
    id: int = strawberry.field(description="The entry's id in the PSA.")
    name: str = strawberry.field(description="Its name in the PSA.")
    detail: str | None = strawberry.field(
        description="A second line: the company or contract number, a billing code's "
        "description, or a suggestion's web domain."
    )

    @classmethod
    def of(cls, choice: Choice) -> PsaChoice:
        return cls(id=choice.id, name=choice.name, detail=choice.detail)


@strawberry.type(description="One entry of a live PSA picker page, with its cursor.")
class PsaChoiceEdge:
    node: PsaChoice = strawberry.field(description="The entry.")
    cursor: str = strawberry.field(description="Pass as `after` to continue after this entry.")


@strawberry.type(
    description="A page of a live PSA picker, in the PSA's own order (Autotask cannot sort: "
    "by id); narrow it with `search`."
)
class PsaChoiceConnection:
    edges: list[PsaChoiceEdge] = strawberry.field(description="This page's entries.")
    page_info: relay.PageInfo = strawberry.field(
        description="Whether more entries follow, and the cursor to continue after this page."
    )
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many entries match the picker's filters on all pages, not only this "
        "one (one more request to the PSA, made only when asked for)."
    )
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type(description="How one program syncs to your partner's PSA.")
class ProgramSyncSettings:
    program_id: strawberry.ID = strawberry.field(description="The program.")
    psa: Psa = strawberry.field(  # type: ignore[valid-type]
        description="The PSA this program syncs to: its services, mappings and runs are in it."
    )
    sync_enabled: bool = strawberry.field(
        description="Whether the program syncs at all (products and invoices)."
    )
    product_sync_mode: ProductSyncModeEnum = strawberry.field(  # type: ignore[valid-type]
        description="Which products the product sync keeps as PSA services."
    )
    sync_azure_usage: bool = strawberry.field(
        description="Whether usage lines (Azure) are synced: one unit at the month's usage "
        "amount, back to zero the next month."
    )
    require_approval: bool = strawberry.field(
        description="Whether a sync of an issued invoice waits for a partner admin to approve "
        "its changes (see approveInvoiceSync) before it writes anything to the PSA."
    )
    billing_code: PsaChoice | None = strawberry.field(
        description="What the services are created under: Autotask's Recurring Contract "
        "Service billing code, or ConnectWise's product subcategory."
    )
    vendor: PsaChoice | None = strawberry.field(
        description="The vendor company set on the services; null for none."
    )
    notification_emails: list[str] = strawberry.field(
        description="Addresses mailed about failed syncs and price changes."
    )
    updated_at: datetime = strawberry.field(description="When the settings last changed.")

    @classmethod
    def from_row(cls, row: SettingsRow, program_gid: str) -> ProgramSyncSettings:
        return cls(
            program_id=strawberry.ID(program_gid),
            psa=PsaKind(row.psa),
            sync_enabled=row.sync_enabled,
            product_sync_mode=ProductSyncMode(row.product_sync_mode),
            sync_azure_usage=row.sync_azure_usage,
            require_approval=row.require_approval,
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


@strawberry.input(description="A program's sync settings, replacing the saved ones.")
class ProgramSyncSettingsInput:
    program_id: strawberry.relay.GlobalID = strawberry.field(
        description="A program of the catalogue."
    )
    sync_enabled: bool = strawberry.field(
        description="Sync the program at all; turning it on needs a billing code."
    )
    psa: Psa = strawberry.field(  # type: ignore[valid-type]
        default=PsaKind.AUTOTASK,
        description="The PSA the program syncs to (you must be connected to it); Autotask by "
        "default. The billing code and vendor are that PSA's.",
    )
    product_sync_mode: ProductSyncModeEnum = strawberry.field(  # type: ignore[valid-type]
        description="Which products the product sync keeps as PSA services."
    )
    sync_azure_usage: bool = strawberry.field(
        default=False, description="Also sync usage lines (Azure); off by default."
    )
    require_approval: bool = strawberry.field(
        default=False,
        description="Hold each sync of an issued invoice until a partner admin approves its "
        "changes; off by default (syncs write as soon as an invoice is issued).",
    )
    billing_code_id: int | None = strawberry.field(
        default=None,
        description="From psaBillingCodes of the same PSA (Autotask: active Recurring Contract "
        "Service codes; ConnectWise: active product subcategories); required when syncEnabled.",
    )
    vendor_company_id: int | None = strawberry.field(
        default=None,
        description="Optional: the company new services name as their vendor, from "
        "psaCompanies (vendorsOnly: true narrows Autotask's to vendors; ConnectWise's cannot "
        "be narrowed).",
    )
    notification_emails: list[str] = strawberry.field(
        default_factory=list,
        description="Addresses to mail about failed syncs and price changes; at most 20, "
        "each a valid e-mail address.",
    )


@strawberry.type(description="The program's sync settings after saving them.")
class ProgramSyncSettingsPayload:
    settings: ProgramSyncSettings | None = strawberry.field(
        description="The settings as saved; null when nothing was saved."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing was saved.")


@strawberry.type(description="What a product sync would do (or did) for one product.")
class ProductSyncPlanItem:
    sku: str = strawberry.field(description="The product's SKU.")
    product_name: str = strawberry.field(description="The product's name in the catalogue.")
    action: ProductSyncAction = strawberry.field(  # type: ignore[valid-type]
        description="What the sync does for it."
    )
    service_id: int | None = strawberry.field(
        description="Its PSA service's id; null until the service exists."
    )
    service_name: str | None = strawberry.field(
        description='The PSA service\'s name ("PC_" and the SKU for a service Prism creates).'
    )
    unit_price: Decimal | None = strawberry.field(
        description="The unit price (retail price) the service gets."
    )
    unit_cost: Decimal | None = strawberry.field(
        description="The unit cost (buy price) the service gets."
    )
    warnings: list[str] = strawberry.field(
        description="Things to look at, e.g. a description cut to the PSA's length."
    )
    message: str | None = strawberry.field(
        description="Why, for a skipped or failing product, and what to do."
    )

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


@strawberry.type(description="What a product sync of the program would do now; nothing is written.")
class ProductSyncPreviewPayload:
    items: list[ProductSyncPlanItem] = strawberry.field(description="Per product, by SKU.")
    creates: int = strawberry.field(description="Services a sync would create (or re-create).")
    updates: int = strawberry.field(description="Services whose price and cost would change.")
    failures: int = strawberry.field(description="Products a sync would report as errors.")
    errors: list[UserError] = strawberry.field(
        description="Why no preview could be made (unknown program, PSA not connected or not "
        "reachable)."
    )


@strawberry.type(description="Whether a product sync was requested.")
class SyncProductsPayload:
    requested: bool = strawberry.field(
        description="The sync will run shortly; its run shows in productSyncRuns."
    )
    errors: list[UserError] = strawberry.field(description="Why it was not requested.")


@strawberry.type(description="The service a retired product is now mapped to.")
class MapProductToServicePayload:
    service: PsaChoice | None = strawberry.field(
        description="The PSA service; null when nothing was mapped."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing was mapped.")


@strawberry.input(description="Which program's products to sync to your PSA now.")
class SyncProductsInput:
    program_id: strawberry.relay.GlobalID = strawberry.field(
        description="A program of the catalogue whose sync settings are saved."
    )


@strawberry.input(description="Map a (retired) product by hand to an existing PSA service.")
class MapProductToServiceInput:
    product_id: strawberry.relay.GlobalID = strawberry.field(
        description="A retired product of the catalogue."
    )
    service_id: int = strawberry.field(description="The id of a service that exists in the PSA.")


@strawberry.type(description="One product of a product sync run.")
class ProductSyncRunItem:
    sku: str = strawberry.field(description="The product's SKU.")
    product_name: str = strawberry.field(description="The product's name in the catalogue.")
    action: ProductSyncAction = strawberry.field(  # type: ignore[valid-type]
        description="What the run set out to do for it."
    )
    outcome: SyncItemOutcome = strawberry.field(  # type: ignore[valid-type]
        description="How that went."
    )
    service_id: int | None = strawberry.field(description="Its PSA service's id, if any.")
    service_name: str | None = strawberry.field(description="Its PSA service's name, if any.")
    unit_price: Decimal | None = strawberry.field(description="The unit price written.")
    unit_cost: Decimal | None = strawberry.field(description="The unit cost written.")
    message: str | None = strawberry.field(
        description="What happened and, for a warning or error, what to do."
    )

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


@strawberry.type(description="One product sync run: when, why, how it went, and its counts.")
class ProductSyncRun(relay.Node):
    id: relay.NodeID[int]
    trigger: ProductSyncTrigger = strawberry.field(  # type: ignore[valid-type]
        description="What started it."
    )
    status: SyncRunStatus = strawberry.field(  # type: ignore[valid-type]
        description="How it stands, or how it ended."
    )
    started_at: datetime = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(
        description="When it finished; null while under way."
    )
    products_considered: int = strawberry.field(description="Products the run looked at.")
    products_synced: int = strawberry.field(
        description="Products whose service is now right (written or already so)."
    )
    created: int = strawberry.field(description="Services created (or re-created).")
    updated: int = strawberry.field(description="Services whose price and cost were changed.")
    unchanged: int = strawberry.field(description="Services that needed no change.")
    failed: int = strawberry.field(description="Products in error.")
    warnings: int = strawberry.field(description="Products with a warning.")
    message: str | None = strawberry.field(
        description="Why the run as a whole failed, and what to do; else null."
    )

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

    @strawberry.field(description="The run's products, by SKU (the Sync Status screen).")
    async def items(self, info: Info) -> list[ProductSyncRunItem]:
        rows = await info.context.loaders.items_by_product_sync_run.load(self.id)
        return [ProductSyncRunItem.from_row(r) for r in rows]


@strawberry.type(description="A page of product sync runs, newest first (the Sync History).")
class ProductSyncRunConnection(Counted, relay.Connection[ProductSyncRun]):
    pass


@strawberry.type(description="The products card: the last successful sync and the last run.")
class ProductSyncOverview:
    last_successful_at: datetime | None = strawberry.field(
        description="When the last run that left the PSA right (success, warning, no change) "
        "began; null if none."
    )
    last_run: ProductSyncRun | None = strawberry.field(
        description="The newest run, whatever its status; null if none."
    )
