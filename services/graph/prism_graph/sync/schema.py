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
from prism_domain.sync import ConnectionProblem, ConnectWiseCredentials, ProductSyncMode, PsaKind
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
    ConnectWiseCredentialsInput,
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
    Psa,
    PsaChoice,
    PsaChoiceConnection,
    PsaConnection,
    PsaConnectionPayload,
    PsaCredentialsInput,
    RetestPsaConnectionInput,
    SyncProductsInput,
    SyncProductsPayload,
    TestPsaConnectionPayload,
)
from prism_psa.connections import Adapter, PsaConfig
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


def _live(info: Info, partner: int, psa: PsaKind) -> pickers.Live:
    database, config = info.context.database, psa_config(info)

    async def live(work: Callable[[Adapter], Any]) -> Any:
        return await service.live(database, config, partner, work, psa)

    return live


PSA = strawberry.argument(description="Which PSA to read; Autotask by default.")


def _connectwise_credentials(
    config: PsaConfig, input: ConnectWiseCredentialsInput
) -> ConnectWiseCredentials | list[FieldError]:
    return service.parse_connectwise(
        config,
        site=input.site,
        company_id=input.company_id,
        public_key=input.public_key,
        private_key=input.private_key,
    )


def _term(search: str | None) -> str | None:
    return search.strip() if search and search.strip() else None


def _run(row: RunRow) -> ProductSyncRun:
    return ProductSyncRun.from_row(row)


@strawberry.type
class PsaQueries(InvoiceSyncQueries):
    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="Your partner's connection to one PSA (Autotask by default) and its "
        "status; null if none.",
    )
    async def psa_connection(
        self,
        info: Info,
        psa: Annotated[Psa, PSA] = PsaKind.AUTOTASK,  # type: ignore[valid-type]
    ) -> PsaConnection | None:
        row = await info.context.reader.scalar(
            select(ConnectionRow).where(
                visible_psa_connections(info.context.scope), ConnectionRow.psa == PsaKind(psa)
            )
        )
        return PsaConnection.from_row(row) if row else None

    @strawberry.field(
        permission_classes=[requires(Permission.VIEW_PSA_SYNC)],
        description="Every PSA your partner is connected to (Autotask, ConnectWise), with "
        "each connection's status; empty if none.",
    )
    async def psa_connections(self, info: Info) -> list[PsaConnection]:
        rows = await info.context.reader.scalars(
            select(ConnectionRow)
            .where(visible_psa_connections(info.context.scope))
            .order_by(ConnectionRow.psa)
        )
        return [PsaConnection.from_row(row) for row in rows]

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
        description="Billing codes for the program settings, live from the PSA: Autotask's "
        "active Recurring Contract Service codes, or ConnectWise's active product subcategories.",
    )
    async def psa_billing_codes(
        self,
        info: Info,
        psa: Annotated[Psa, PSA] = PsaKind.AUTOTASK,  # type: ignore[valid-type]
    ) -> list[PsaChoice]:
        partner = _partner(info)
        if partner is None:
            return []
        return _choices(
            await service.live(
                info.context.database,
                psa_config(info),
                partner,
                lambda adapter: adapter.recurring_billing_codes(),
                PsaKind(psa),
            )
        )

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Active companies of the PSA, live, a page at a time in the PSA's order (by "
        "id); vendorsOnly for the program's vendor, all for customer mapping.",
    )
    async def psa_companies(
        self,
        info: Info,
        psa: Annotated[Psa, PSA] = PsaKind.AUTOTASK,  # type: ignore[valid-type]
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
        live = _live(info, partner, PsaKind(psa))
        term = _term(search)
        return await pickers.picker(
            live,
            kind="companies",
            criteria={"search": term, "vendorsOnly": vendors_only, "psa": str(psa)},
            first=first,
            after=after,
            page=lambda psa, size, after_id: psa.companies(
                term, vendors_only=vendors_only, first=size, after=after_id
            ),
            count=lambda psa: psa.count_companies(term, vendors_only=vendors_only),
        )

    @strawberry.field(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Contracts to sync a customer to, live, of a company and/or searched by "
        "name, a page at a time in the PSA's order (by id): Autotask's active Recurring Service "
        "contracts, or ConnectWise's agreements, in force today in the partner's time zone.",
    )
    async def psa_contracts(
        self,
        info: Info,
        psa: Annotated[Psa, PSA] = PsaKind.AUTOTASK,  # type: ignore[valid-type]
        company_id: Annotated[
            int | None,
            strawberry.argument(description="Only this company's (from psaCompanies)."),
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
        live = _live(info, partner, PsaKind(psa))
        term = _term(search)
        return await pickers.picker(
            live,
            kind="contracts",
            criteria={"search": term, "companyId": company_id, "psa": str(psa)},
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
        description="Check Autotask API user credentials against Autotask without saving them.",
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
        description="Check a ConnectWise API member's keys against ConnectWise without saving "
        "them.",
    )
    async def test_connect_wise_connection(
        self,
        info: Info,
        input: Annotated[
            ConnectWiseCredentialsInput, strawberry.argument(description="The member to test.")
        ],
    ) -> TestPsaConnectionPayload:
        config = psa_config(info)
        credentials = _connectwise_credentials(config, input)
        if isinstance(credentials, list):
            return TestPsaConnectionPayload(
                ok=False, zone_url=None, problem=None, errors=user_errors(credentials)
            )
        outcome = await service.check_connectwise(config, credentials)
        if isinstance(outcome, FieldError):
            return TestPsaConnectionPayload(
                ok=False, zone_url=None, problem=None, errors=user_errors([outcome])
            )
        if isinstance(outcome, ConnectionProblem):
            return TestPsaConnectionPayload(
                ok=False,
                zone_url=None,
                problem=outcome,
                errors=user_errors([service.problem_error(outcome, PsaKind.CONNECTWISE)]),
            )
        return TestPsaConnectionPayload(ok=True, zone_url=outcome, problem=None, errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Test and save your partner's ConnectWise connection (beside any Autotask "
        "one); nothing is saved when ConnectWise refuses the keys.",
    )
    async def save_connect_wise_connection(
        self,
        info: Info,
        input: Annotated[
            ConnectWiseCredentialsInput,
            strawberry.argument(description="The member to connect with, replacing any saved."),
        ],
    ) -> PsaConnectionPayload:
        partner = _partner(info)
        if partner is None:
            return PsaConnectionPayload(connection=None, errors=user_errors([service.NO_PARTNER]))
        config = psa_config(info)
        credentials = _connectwise_credentials(config, input)
        if isinstance(credentials, list):
            return PsaConnectionPayload(connection=None, errors=user_errors(credentials))
        result = await service.save_connectwise_connection(
            info.context.database, config, partner, credentials
        )
        if isinstance(result, list):
            return PsaConnectionPayload(connection=None, errors=user_errors(result))
        return PsaConnectionPayload(connection=PsaConnection.from_row(result), errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Test a stored connection again and record its status; without input, "
        "the Autotask one.",
    )
    async def retest_psa_connection(
        self,
        info: Info,
        input: Annotated[
            RetestPsaConnectionInput | None,
            strawberry.argument(description="Which connection; Autotask when left out."),
        ] = None,
    ) -> PsaConnectionPayload:
        partner = _partner(info)
        if partner is None:
            return PsaConnectionPayload(connection=None, errors=user_errors([service.NO_PARTNER]))
        psa = PsaKind(input.psa) if input is not None else PsaKind.AUTOTASK
        result = await service.retest_connection(
            info.context.database, psa_config(info), partner, psa
        )
        if isinstance(result, list):
            return PsaConnectionPayload(connection=None, errors=user_errors(result))
        return PsaConnectionPayload(connection=PsaConnection.from_row(result), errors=[])

    @strawberry.mutation(
        permission_classes=[requires(Permission.MANAGE_PSA_SYNC)],
        description="Save a program's sync settings; the billing code and vendor are checked "
        "live in the PSA the program syncs to.",
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
            psa=PsaKind(input.psa),
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
