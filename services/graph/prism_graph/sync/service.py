"""Use cases of the PSA sync screens (S1-S3): validate, talk to the PSA live (in a worker
thread: the client is synchronous), write, record events, commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.sync import (
    ConnectionProblem,
    ConnectionStatus,
    ConnectWiseCredentials,
    Credentials,
    ProductSyncMode,
    ProductSyncRequested,
    PsaKind,
    SyncTrigger,
    clean_notification_emails,
    problem_message,
)
from prism_graph.database import Database
from prism_psa.connections import Adapter, PsaConfig, PsaNotConfigured
from prism_psa.limits import BudgetUse
from prism_psa.port import Choice, ConnectionCheckFailed, PsaError
from prism_psa.products import preview as product_plan
from prism_psa.products.planning import Plan
from prism_psa.secrets import UnreadableSecret
from prism_tables.catalogue import Product, Program
from prism_tables.sync.connections import ProgramSyncSettings, PsaConnection
from prism_tables.sync.products import ProductServiceLink

T = TypeVar("T")

#: Why a program's "billing code" is refused, in each PSA's words: Autotask classifies
#: services by a Recurring Contract Service billing code, ConnectWise by a product
#: subcategory.
_NO_BILLING_CODE = {
    PsaKind.AUTOTASK: (
        "No active Recurring Contract Service billing code with this id in Autotask."
    ),
    PsaKind.CONNECTWISE: "No active product subcategory with this id in ConnectWise.",
}

_PROBLEM_ERRORS: dict[ConnectionProblem, tuple[str | None, ErrorCode]] = {
    ConnectionProblem.UNKNOWN_USER: ("username", ErrorCode.PSA_UNKNOWN_USER),
    ConnectionProblem.WRONG_SECRET: ("secret", ErrorCode.PSA_WRONG_SECRET),
    # The credentials may be right: the API user itself is refused.
    ConnectionProblem.USER_LOCKED: (None, ErrorCode.PSA_USER_LOCKED),
    ConnectionProblem.USER_INACTIVE: (None, ErrorCode.PSA_USER_INACTIVE),
    ConnectionProblem.INVALID_INTEGRATION_CODE: (
        "integrationCode",
        ErrorCode.PSA_INVALID_INTEGRATION_CODE,
    ),
    ConnectionProblem.PERMISSION_DENIED: (None, ErrorCode.PSA_PERMISSION_DENIED),
    ConnectionProblem.UNREACHABLE: (None, ErrorCode.PSA_UNAVAILABLE),
    ConnectionProblem.UNEXPECTED: (None, ErrorCode.PSA_UNAVAILABLE),
}


def not_connected(psa: PsaKind | str) -> FieldError:
    label = PsaKind(psa).label
    return FieldError(
        None, ErrorCode.PSA_NOT_CONNECTED, f"Connect to {label} first (Connections screen)."
    )


NO_PARTNER = FieldError(
    None, ErrorCode.NOT_FOUND, "PSA sync belongs to a partner: act for one partner first."
)


#: The input fields of a ConnectWise connection each problem points at.
_CONNECTWISE_FIELDS: dict[ConnectionProblem, str | None] = {
    ConnectionProblem.UNKNOWN_USER: "companyId",
    ConnectionProblem.WRONG_SECRET: "privateKey",
    ConnectionProblem.INVALID_INTEGRATION_CODE: None,
}


def problem_error(problem: ConnectionProblem, psa: PsaKind = PsaKind.AUTOTASK) -> FieldError:
    field, code = _PROBLEM_ERRORS[problem]
    if psa is PsaKind.CONNECTWISE:
        field = _CONNECTWISE_FIELDS.get(problem, field)
    return FieldError(field, code, problem_message(psa, problem))


async def _with_psa(open_psa: Callable[[], Adapter], work: Callable[[Adapter], T]) -> T:
    def run() -> T:
        psa = open_psa()
        try:
            return work(psa)
        finally:
            psa.close()

    return await anyio.to_thread.run_sync(run)


async def check_credentials(config: PsaConfig, credentials: Credentials) -> str | ConnectionProblem:
    """The zone's URL when Autotask accepts the credentials, else which part it refused."""
    try:
        return await _with_psa(lambda: config.autotask(credentials), lambda psa: psa.check())
    except ConnectionCheckFailed as exc:
        return exc.problem


async def check_connectwise(
    config: PsaConfig, credentials: ConnectWiseCredentials
) -> str | ConnectionProblem | FieldError:
    """The API's address when ConnectWise accepts the keys, else which part it refused
    (a field error when this server is not set up for ConnectWise)."""
    try:
        return await _with_psa(lambda: config.connectwise(credentials), lambda psa: psa.check())
    except ConnectionCheckFailed as exc:
        return exc.problem
    except PsaNotConfigured as exc:
        return FieldError(None, ErrorCode.PSA_UNAVAILABLE, str(exc))


def parse_connectwise(
    config: PsaConfig,
    *,
    site: str | None,
    company_id: str | None,
    public_key: str | None,
    private_key: str | None,
) -> ConnectWiseCredentials | list[FieldError]:
    try:
        return ConnectWiseCredentials.parse(
            site=site,
            company_id=company_id,
            public_key=public_key,
            private_key=private_key,
            allow_http_loopback=config.connectwise_allow_http_loopback,
        )
    except DomainValidationError as exc:
        return exc.errors


def parse_credentials(
    username: str | None, secret: str | None, integration_code: str | None
) -> Credentials | list[FieldError]:
    try:
        return Credentials.parse(
            username=username, secret=secret, integration_code=integration_code
        )
    except DomainValidationError as exc:
        return exc.errors


async def _connection(
    session: AsyncSession, partner_id: int, psa: PsaKind | str = PsaKind.AUTOTASK
) -> PsaConnection | None:
    return await session.scalar(
        select(PsaConnection).where(
            PsaConnection.partner_id == partner_id, PsaConnection.psa == str(psa)
        )
    )


async def program_psa_of(database: Database, partner_id: int, program_id: int) -> PsaKind:
    async with AsyncSession(database.engine) as session:
        psa = await session.scalar(
            select(ProgramSyncSettings.psa).where(
                ProgramSyncSettings.partner_id == partner_id,
                ProgramSyncSettings.program_id == program_id,
            )
        )
    return PsaKind(psa) if psa else PsaKind.AUTOTASK


async def save_connectwise_connection(
    database: Database, config: PsaConfig, partner_id: int, credentials: ConnectWiseCredentials
) -> PsaConnection | list[FieldError]:
    """S13: test the API member's keys against ConnectWise, then store them (keys encrypted)."""
    outcome = await check_connectwise(config, credentials)
    if isinstance(outcome, FieldError):
        return [outcome]
    if isinstance(outcome, ConnectionProblem):
        return [problem_error(outcome, PsaKind.CONNECTWISE)]
    return await _store(
        database,
        partner_id,
        PsaKind.CONNECTWISE,
        username=credentials.company_id,
        site=credentials.site,
        secret=config.cipher.encrypt(credentials.private_key),
        code=config.cipher.encrypt(credentials.public_key),
        zone_url=outcome,
    )


async def save_connection(
    database: Database, config: PsaConfig, partner_id: int, credentials: Credentials
) -> PsaConnection | list[FieldError]:
    """S1: test against the API, then store (secret and integration code encrypted)."""
    outcome = await check_credentials(config, credentials)
    if isinstance(outcome, ConnectionProblem):
        return [problem_error(outcome)]
    return await _store(
        database,
        partner_id,
        PsaKind.AUTOTASK,
        username=credentials.username,
        site=None,
        secret=config.cipher.encrypt(credentials.secret),
        code=config.cipher.encrypt(credentials.integration_code),
        zone_url=outcome,
    )


async def _store(
    database: Database,
    partner_id: int,
    psa: PsaKind,
    *,
    username: str,
    site: str | None,
    secret: str,
    code: str,
    zone_url: str,
) -> PsaConnection:
    """The partner's connection to `psa`, replaced by credentials the PSA just accepted."""
    async with database.unit_of_work() as uow:
        row = await _connection(uow.session, partner_id, psa)
        if row is None:
            row = PsaConnection(partner_id=partner_id, psa=psa.value)
            uow.session.add(row)
        row.username = username
        row.site = site
        row.secret_encrypted = secret
        row.integration_code_encrypted = code
        row.zone_url = zone_url
        row.status = ConnectionStatus.OK.value
        row.problem = None
        row.status_message = None
        row.tested_at = datetime.now(UTC)
        await uow.commit()
        return row


async def stored_adapter(
    database: Database, config: PsaConfig, partner_id: int, psa: PsaKind
) -> Callable[[], Adapter] | FieldError:
    """How to open the partner's stored connection to `psa`, or why it cannot be."""
    async with AsyncSession(database.engine) as session:
        row = await _connection(session, partner_id, psa)
    if row is None:
        return not_connected(psa)
    try:
        if psa is PsaKind.CONNECTWISE:
            cw_credentials = config.connectwise_credentials_of(row)
            return lambda: config.connectwise(cw_credentials)
        credentials = config.credentials_of(row)
        return lambda: config.autotask(credentials)
    except UnreadableSecret:
        return FieldError(
            None,
            ErrorCode.PSA_NOT_CONNECTED,
            "The stored credentials cannot be read any more: enter them again.",
        )


async def retest_connection(
    database: Database, config: PsaConfig, partner_id: int, psa: PsaKind = PsaKind.AUTOTASK
) -> PsaConnection | list[FieldError]:
    """S1 status: test the stored credentials again; ok, or failing with the reason."""
    opener = await stored_adapter(database, config, partner_id, psa)
    if isinstance(opener, FieldError):
        return [opener]
    outcome: str | ConnectionProblem
    try:
        outcome = await _with_psa(opener, lambda adapter: adapter.check())
    except ConnectionCheckFailed as exc:
        outcome = exc.problem
    except PsaNotConfigured as exc:
        return [FieldError(None, ErrorCode.PSA_UNAVAILABLE, str(exc))]
    async with database.unit_of_work() as uow:
        row = await _connection(uow.session, partner_id, psa)
        if row is None:
            return [not_connected(psa)]
        row.tested_at = datetime.now(UTC)
        if isinstance(outcome, ConnectionProblem):
            row.status = ConnectionStatus.FAILING.value
            row.problem = outcome.value
            row.status_message = problem_message(psa, outcome)
        else:
            row.status = ConnectionStatus.OK.value
            row.problem = None
            row.status_message = None
            row.zone_url = outcome
        await uow.commit()
        return row


async def live(
    database: Database,
    config: PsaConfig,
    partner_id: int,
    work: Callable[[Adapter], T],
    psa: PsaKind = PsaKind.AUTOTASK,
) -> T | FieldError:
    """Run `work` on the partner's `psa`; a refusal or outage is a field error, not a crash."""
    opener = await stored_adapter(database, config, partner_id, psa)
    if isinstance(opener, FieldError):
        return opener
    try:
        return await _with_psa(opener, work)
    except PsaError as exc:
        return FieldError(None, ErrorCode.PSA_UNAVAILABLE, str(exc))


async def program_exists(database: Database, program_id: int) -> bool:
    async with AsyncSession(database.engine) as session:
        return (
            await session.scalar(select(Program.id).where(Program.id == program_id))
        ) is not None


async def save_settings(
    database: Database,
    config: PsaConfig,
    partner_id: int,
    *,
    program_id: int,
    sync_enabled: bool,
    mode: ProductSyncMode,
    sync_azure_usage: bool,
    billing_code_id: int | None,
    vendor_company_id: int | None,
    notification_emails: list[str],
    require_approval: bool = False,
    psa: PsaKind = PsaKind.AUTOTASK,
) -> ProgramSyncSettings | list[FieldError]:
    """S2: the program's sync options; billing code and vendor checked live in the PSA the
    program syncs to (S13)."""
    errors: list[FieldError] = []
    try:
        emails = clean_notification_emails(notification_emails)
    except DomainValidationError as exc:
        errors.extend(exc.errors)
        emails = []
    if not await program_exists(database, program_id):
        errors.append(FieldError("programId", ErrorCode.NOT_FOUND, "No such program."))
    if sync_enabled and billing_code_id is None:
        errors.append(
            FieldError("billingCodeId", ErrorCode.REQUIRED, "Choose a billing code to sync.")
        )
    if errors:
        return errors
    code_name: str | None = None
    vendor_name: str | None = None
    if billing_code_id is not None or vendor_company_id is not None:

        def look_up(adapter: Adapter) -> tuple[Choice | None, Choice | None]:
            code = None
            if billing_code_id is not None:
                code = next(
                    (c for c in adapter.recurring_billing_codes() if c.id == billing_code_id),
                    None,
                )
            vendor = adapter.company(vendor_company_id) if vendor_company_id is not None else None
            return code, vendor

        found = await live(database, config, partner_id, look_up, psa)
        if isinstance(found, FieldError):
            return [found]
        code, vendor = found
        if billing_code_id is not None and code is None:
            errors.append(
                FieldError(
                    "billingCodeId",
                    ErrorCode.NOT_FOUND,
                    _NO_BILLING_CODE[psa],
                )
            )
        if vendor_company_id is not None and vendor is None:
            errors.append(
                FieldError(
                    "vendorCompanyId", ErrorCode.NOT_FOUND, "No active company with this id."
                )
            )
        if errors:
            return errors
        code_name = code.name if code else None
        vendor_name = vendor.name if vendor else None
    async with database.unit_of_work() as uow:
        row = await uow.session.scalar(
            select(ProgramSyncSettings).where(
                ProgramSyncSettings.partner_id == partner_id,
                ProgramSyncSettings.program_id == program_id,
            )
        )
        if row is None:
            row = ProgramSyncSettings(partner_id=partner_id, program_id=program_id)
            uow.session.add(row)
        row.psa = psa.value
        row.sync_enabled = sync_enabled
        row.product_sync_mode = mode.value
        row.sync_azure_usage = sync_azure_usage
        row.require_approval = require_approval
        row.billing_code_id = billing_code_id
        row.billing_code_name = code_name
        row.vendor_company_id = vendor_company_id
        row.vendor_company_name = vendor_name
        row.notification_emails = emails
        await uow.commit()
        return row


async def request_product_sync(
    database: Database, partner_id: int, program_id: int
) -> list[FieldError]:
    """S3: ask the syncer for a run, through the outbox (the run is recorded there, S7)."""
    async with database.unit_of_work() as uow:
        settings = await uow.session.scalar(
            select(ProgramSyncSettings).where(
                ProgramSyncSettings.partner_id == partner_id,
                ProgramSyncSettings.program_id == program_id,
            )
        )
        if settings is None:
            return [FieldError("programId", ErrorCode.NOT_FOUND, "This program is not set up.")]
        if not settings.sync_enabled:
            return [
                FieldError(
                    "programId",
                    ErrorCode.NOT_ALLOWED,
                    "Sync is off for this program: turn it on in the program's sync settings.",
                )
            ]
        if await _connection(uow.session, partner_id, settings.psa) is None:
            return [not_connected(settings.psa)]
        uow.record(
            ProductSyncRequested(
                aggregate_id=f"{partner_id}:{program_id}",
                partner_id=partner_id,
                program_id=program_id,
                trigger=SyncTrigger.MANUAL.value,
            )
        )
        await uow.commit()
        return []


async def preview(
    database: Database, config: PsaConfig, partner_id: int, program_id: int
) -> Plan | FieldError:
    """S3 preview: exactly what a sync would create and update; reads only."""
    now = datetime.now(UTC)
    async with AsyncSession(database.engine) as session:

        def gather(sync_session: object) -> product_plan.Inputs:
            from sqlalchemy.orm import Session

            assert isinstance(sync_session, Session)
            row = product_plan.settings_of(sync_session, partner_id, program_id)
            mode = ProductSyncMode(row.product_sync_mode) if row else ProductSyncMode.ALL
            return product_plan.gather(sync_session, partner_id, program_id, mode, now)

        inputs = await session.run_sync(gather)
    psa = await program_psa_of(database, partner_id, program_id)
    return await live(
        database, config, partner_id, lambda adapter: product_plan.make_plan(adapter, inputs), psa
    )


async def map_product(
    database: Database, config: PsaConfig, partner_id: int, product_id: int, service_id: int
) -> Choice | list[FieldError]:
    """S3: map a (retired) product by hand to a service that exists in the PSA."""
    async with AsyncSession(database.engine) as session:
        product = await session.get(Product, product_id) if product_id > 0 else None
    if product is None:
        return [FieldError("productId", ErrorCode.NOT_FOUND, "No such product.")]
    if not product.retired:
        return [
            FieldError(
                "productId",
                ErrorCode.NOT_ALLOWED,
                "Only retired products are mapped by hand; products on the price list get "
                "their own PC_ service from the product sync.",
            )
        ]
    psa = await program_psa_of(database, partner_id, product.program_id)
    found = await live(
        database, config, partner_id, lambda adapter: adapter.service(service_id), psa
    )
    if isinstance(found, FieldError):
        return [found]
    if found is None:
        return [
            FieldError("serviceId", ErrorCode.NOT_FOUND, f"No service with this id in {psa.label}.")
        ]
    async with database.unit_of_work() as uow:
        link = await uow.session.scalar(
            select(ProductServiceLink).where(
                ProductServiceLink.partner_id == partner_id,
                ProductServiceLink.psa == psa.value,
                ProductServiceLink.product_id == product_id,
            )
        )
        if link is None:
            link = ProductServiceLink(
                partner_id=partner_id,
                psa=psa.value,
                program_id=product.program_id,
                product_id=product_id,
                sku=product.sku,
            )
            uow.session.add(link)
        link.service_id = found.id
        link.origin = "MANUAL"
        await uow.commit()
    return Choice(found.id, found.name)


async def request_budget(
    database: Database, config: PsaConfig, partner_id: int, psa: PsaKind
) -> BudgetUse | None:
    """N3: the requests counted against the partner's database in `psa` in the current
    window (see `PsaConfig.request_budget`); None when not connected or unreadable."""
    async with AsyncSession(database.engine) as session:
        row = await _connection(session, partner_id, psa)
    if row is None:
        return None
    try:
        return await anyio.to_thread.run_sync(lambda: config.request_budget(row))
    except UnreadableSecret:
        return None
