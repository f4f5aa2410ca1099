"""PSA sync queries and mutations (S1-S3, S7; the customer mapping and the invoice sync's
history, S4-S7, are in `invoice_schema`). Everything is the caller's partner's: its staff
and API clients, or the distributor acting for it (T3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from strawberry import relay

from prism_domain.access import Permission
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.sync import ConnectionProblem, ProductSyncMode
from prism_graph.access import (
    requires,
    visible_product_sync_runs,
    visible_program_sync_settings,
    visible_psa_connections,
)
from prism_graph.common.errors import user_errors
from prism_graph.common.ids import node_pk
from prism_graph.common.pagination import (
    After,
    Before,
    First,
    Last,
    Page,
    SortKey,
    connection,
    paginate,
)
from prism_graph.context import Info
from prism_graph.organisations import zones
from prism_graph.sync import pickers, service
from prism_graph.sync.common import PsaUnavailable, partner_of
from prism_graph.sync.config import psa_config
from prism_graph.sync.invoice_schema import InvoiceSyncMutations, InvoiceSyncQueries
from prism_graph.sync.types import (
    MapProductToServiceInput,
    MapProductToServicePayload,
    ProductSyncOverview,
    ProductSyncPlanItem,
    ProductSyncPreviewPayload,
    ProductSyncRun,
    ProductSyncRunConnection,
    ProgramSyncSettings,
    ProgramSyncSettingsInput,
    ProgramSyncSettingsPayload,
    PsaChoice,
    PsaChoiceConnection,
    PsaConnection,
    PsaConnectionPayload,
    PsaCredentialsInput,
    SyncProductsInput,
    SyncProductsPayload,
    TestPsaConnectionPayload,
)
from prism_psa.autotask import AutotaskPsa
from prism_psa.outcomes import RunStatus
from prism_psa.port import PICKER_PAGE, PICKER_PAGE_MAX, Choice
from prism_psa.products.planning import Action
from prism_tables.sync.connections import ProgramSyncSettings as SettingsRow
from prism_tables.sync.connections import PsaConnection as ConnectionRow
from prism_tables.sync.products import ProductSyncRun as RunRow

_partner = partner_of


PROGRAM = strawberry.argument(description="A program of the catalogue.")
FIRST = strawberry.argument(
    description=f"At most this many entries (1 to {PICKER_PAGE_MAX}); {PICKER_PAGE} by default."
)
AFTER = strawberry.argument(description="The `endCursor` of the page before; continue after it.")


def _choices(result: list[Choice] | FieldError) -> list[PsaChoice]:
    if isinstance(result, FieldError):
        raise PsaUnavailable(result.message)
    return [PsaChoice.of(c) for c in result]


def _live(info: Info, partner: int) -> pickers.Live:
    database, config = info.context.database, psa_config(info)

    async def live(work: Callable[[AutotaskPsa], Any]) -> Any:
        return await service.live(database, config, partner, work)

    return live


def _term(search: str | None) -> str | None:
    return search.strip() if search and search.strip() else None


def _run(row: RunRow) -> ProductSyncRun:
    return ProductSyncRun.from_row(row)


@strawberry.type
class PsaQueries(InvoiceSyncQueries):
    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="Your partner's Autotask connection and its status; null if none.",
    )
    async def psa_connection(self, info: Info) -> PsaConnection | None:
        row = await info.context.reader.scalar(
            select(ConnectionRow).where(visible_psa_connections(info.context.scope))
        )
        return PsaConnection.from_row(row) if row else None

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="How a program syncs to your PSA; null until set up.",
    )
    async def program_sync_settings(
        self, info: Info, program_id: Annotated[relay.GlobalID, PROGRAM]
    ) -> ProgramSyncSettings | None:
        row = await info.context.reader.scalar(
            select(SettingsRow).where(
                visible_program_sync_settings(info.context.scope),
                SettingsRow.program_id == node_pk(program_id, "Program"),
            )
        )
        return ProgramSyncSettings.from_row(row, str(program_id)) if row else None

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Billing codes for the program settings, live from Autotask: active "
        "Recurring Contract Service codes only.",
    )
    async def psa_billing_codes(self, info: Info) -> list[PsaChoice]:
        partner = _partner(info)
        if partner is None:
            return []
        return _choices(
            await service.live(
                info.context.database,
                psa_config(info),
                partner,
                lambda psa: psa.recurring_billing_codes(),
            )
        )

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Active Autotask companies, live, a page at a time in Autotask's order (by "
        "id); vendorsOnly for the program's vendor, all for customer mapping.",
    )
    async def psa_companies(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only companies whose name contains this text (any letter case)."
            ),
        ] = None,
        vendors_only: Annotated[
            bool, strawberry.argument(description="Only companies of the Vendor type.")
        ] = False,
        first: Annotated[int | None, FIRST] = None,
        after: Annotated[str | None, AFTER] = None,
    ) -> PsaChoiceConnection:
        partner = _partner(info)
        if partner is None:
            return pickers.empty()
        live = _live(info, partner)
        term = _term(search)
        return await pickers.picker(
            live,
            kind="companies",
            criteria={"search": term, "vendorsOnly": vendors_only},
            first=first,
            after=after,
            page=lambda psa, size, after_id: psa.companies(
                term, vendors_only=vendors_only, first=size, after=after_id
            ),
            count=lambda psa: psa.count_companies(term, vendors_only=vendors_only),
        )

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Active Recurring Service contracts, live, of a company and/or searched "
        "by name, a page at a time in Autotask's order (by id), for customer mapping: those "
        "in force today in the partner's time zone.",
    )
    async def psa_contracts(
        self,
        info: Info,
        company_id: Annotated[
            int | None,
            strawberry.argument(description="Only this Autotask company's (from psaCompanies)."),
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Only contracts whose name contains this text (any letter case)."
            ),
        ] = None,
        first: Annotated[int | None, FIRST] = None,
        after: Annotated[str | None, AFTER] = None,
    ) -> PsaChoiceConnection:
        partner = _partner(info)
        if partner is None:
            return pickers.empty()
        today = await zones.today_for(info.context.reader.scalar, partner)
        live = _live(info, partner)
        term = _term(search)
        return await pickers.picker(
            live,
            kind="contracts",
            criteria={"search": term, "companyId": company_id},
            first=first,
            after=after,
            page=lambda psa, size, after_id: psa.recurring_contracts(
                company_id, term, today=today, first=size, after=after_id
            ),
            count=lambda psa: psa.count_recurring_contracts(company_id, term, today=today),
        )

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="What a product sync of the program would do now, without writing.",
    )
    async def product_sync_preview(
        self, info: Info, program_id: Annotated[relay.GlobalID, PROGRAM]
    ) -> ProductSyncPreviewPayload:
        partner = _partner(info)
        pk = node_pk(program_id, "Program")
        if partner is None:
            return _preview_error(service.NO_PARTNER)
        if not await service.program_exists(info.context.database, pk):
            return _preview_error(FieldError("programId", ErrorCode.NOT_FOUND, "No such program."))
        plan = await service.preview(info.context.database, psa_config(info), partner, pk)
        if isinstance(plan, FieldError):
            return _preview_error(plan)
        return ProductSyncPreviewPayload(
            items=[ProductSyncPlanItem.of(i) for i in plan.items],
            creates=sum(i.action in (Action.CREATE, Action.RECREATE) for i in plan.items),
            updates=sum(i.action is Action.UPDATE_PRICE for i in plan.items),
            failures=sum(i.action is Action.ERROR for i in plan.items),
            errors=[],
        )

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="Product sync history of a program, newest first.",
    )
    async def product_sync_runs(
        self,
        info: Info,
        program_id: Annotated[relay.GlobalID, PROGRAM],
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProductSyncRunConnection:
        runs = _runs(info, program_id)
        page: Page[RunRow] = await paginate(
            info.context.reader.scalars,
            runs,
            SortKey((RunRow.id,), descending=True),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return connection(ProductSyncRunConnection, page, _run, filtered=runs)

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="One product sync run with its items (the Sync Status screen); null if "
        "none is yours.",
    )
    async def product_sync_run(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID, strawberry.argument(description="The run's id (a ProductSyncRun).")
        ],
    ) -> ProductSyncRun | None:
        pk = node_pk(id, "ProductSyncRun")
        row = await info.context.loaders.product_sync_run_by_id.load(pk) if pk > 0 else None
        return _run(row) if row else None

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="The products card: the last successful sync and the last run.",
    )
    async def product_sync_overview(
        self, info: Info, program_id: Annotated[relay.GlobalID, PROGRAM]
    ) -> ProductSyncOverview:
        runs = _runs(info, program_id).order_by(RunRow.started_at.desc(), RunRow.id.desc())
        last = await info.context.reader.scalar(runs.limit(1))
        good = await info.context.reader.scalar(
            runs.where(
                RunRow.status.in_(
                    [RunStatus.SUCCESS.value, RunStatus.WARNING.value, RunStatus.NO_CHANGE.value]
                )
            ).limit(1)
        )
        return ProductSyncOverview(
            last_successful_at=good.started_at if good else None,
            last_run=_run(last) if last else None,
        )


def _runs(info: Info, program_id: relay.GlobalID) -> Select[RunRow]:
    return select(RunRow).where(
        visible_product_sync_runs(info.context.scope),
        RunRow.program_id == node_pk(program_id, "Program"),
    )


def _preview_error(error: FieldError) -> ProductSyncPreviewPayload:
    return ProductSyncPreviewPayload(
        items=[], creates=0, updates=0, failures=0, errors=user_errors([error])
    )


@strawberry.type
class PsaMutations(InvoiceSyncMutations):
    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Check Autotask credentials against the API without saving them.",
    )
    async def test_psa_connection(
        self,
        info: Info,
        input: Annotated[
            PsaCredentialsInput, strawberry.argument(description="The API user to test.")
        ],
    ) -> TestPsaConnectionPayload:
        credentials = service.parse_credentials(
            input.username, input.secret, input.integration_code
        )
        if isinstance(credentials, list):
            return TestPsaConnectionPayload(
                ok=False, zone_url=None, problem=None, errors=user_errors(credentials)
            )
        outcome = await service.check_credentials(psa_config(info), credentials)
        if isinstance(outcome, ConnectionProblem):
            return TestPsaConnectionPayload(
                ok=False,
                zone_url=None,
                problem=outcome,
                errors=user_errors([service.problem_error(outcome)]),
            )
        return TestPsaConnectionPayload(ok=True, zone_url=outcome, problem=None, errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Test and save your partner's Autotask credentials; nothing is saved "
        "when Autotask refuses them.",
    )
    async def save_psa_connection(
        self,
        info: Info,
        input: Annotated[
            PsaCredentialsInput,
            strawberry.argument(description="The API user to connect with, replacing any saved."),
        ],
    ) -> PsaConnectionPayload:
        partner = _partner(info)
        if partner is None:
            return PsaConnectionPayload(connection=None, errors=user_errors([service.NO_PARTNER]))
        credentials = service.parse_credentials(
            input.username, input.secret, input.integration_code
        )
        if isinstance(credentials, list):
            return PsaConnectionPayload(connection=None, errors=user_errors(credentials))
        result = await service.save_connection(
            info.context.database, psa_config(info), partner, credentials
        )
        if isinstance(result, list):
            return PsaConnectionPayload(connection=None, errors=user_errors(result))
        return PsaConnectionPayload(connection=PsaConnection.from_row(result), errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Test the stored credentials again and record the status; takes no "
        "input (the saved connection is the only one).",
    )
    async def retest_psa_connection(self, info: Info) -> PsaConnectionPayload:
        partner = _partner(info)
        if partner is None:
            return PsaConnectionPayload(connection=None, errors=user_errors([service.NO_PARTNER]))
        result = await service.retest_connection(info.context.database, psa_config(info), partner)
        if isinstance(result, list):
            return PsaConnectionPayload(connection=None, errors=user_errors(result))
        return PsaConnectionPayload(connection=PsaConnection.from_row(result), errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Save a program's sync settings; the billing code and vendor are checked "
        "live in Autotask.",
    )
    async def save_program_sync_settings(
        self,
        info: Info,
        input: Annotated[
            ProgramSyncSettingsInput, strawberry.argument(description="The settings to save.")
        ],
    ) -> ProgramSyncSettingsPayload:
        partner = _partner(info)
        if partner is None:
            return ProgramSyncSettingsPayload(
                settings=None, errors=user_errors([service.NO_PARTNER])
            )
        result = await service.save_settings(
            info.context.database,
            psa_config(info),
            partner,
            program_id=node_pk(input.program_id, "Program"),
            sync_enabled=input.sync_enabled,
            mode=ProductSyncMode(input.product_sync_mode),
            sync_azure_usage=input.sync_azure_usage,
            require_approval=input.require_approval,
            billing_code_id=input.billing_code_id,
            vendor_company_id=input.vendor_company_id,
            notification_emails=list(input.notification_emails),
        )
        if isinstance(result, list):
            return ProgramSyncSettingsPayload(settings=None, errors=user_errors(result))
        return ProgramSyncSettingsPayload(
            settings=ProgramSyncSettings.from_row(result, str(input.program_id)), errors=[]
        )

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Sync the program's products to your PSA now; the run is recorded in "
        "productSyncRuns.",
    )
    async def sync_products(
        self,
        info: Info,
        input: Annotated[
            SyncProductsInput, strawberry.argument(description="The program to sync.")
        ],
    ) -> SyncProductsPayload:
        partner = _partner(info)
        if partner is None:
            return SyncProductsPayload(requested=False, errors=user_errors([service.NO_PARTNER]))
        errors = await service.request_product_sync(
            info.context.database, partner, node_pk(input.program_id, "Program")
        )
        return SyncProductsPayload(requested=not errors, errors=user_errors(errors))

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Map a retired product by hand to an existing PSA service; the product "
        "sync then keeps to it and never changes it.",
    )
    async def map_product_to_service(
        self,
        info: Info,
        input: Annotated[
            MapProductToServiceInput,
            strawberry.argument(description="The retired product and the PSA service."),
        ],
    ) -> MapProductToServicePayload:
        partner = _partner(info)
        if partner is None:
            return MapProductToServicePayload(
                service=None, errors=user_errors([service.NO_PARTNER])
            )
        result = await service.map_product(
            info.context.database,
            psa_config(info),
            partner,
            node_pk(input.product_id, "Product"),
            input.service_id,
        )
        if isinstance(result, list):
            return MapProductToServicePayload(service=None, errors=user_errors(result))
        return MapProductToServicePayload(service=PsaChoice.of(result), errors=[])
