"""Use cases on orders (O2-O7): create and save drafts, submit, and the RFI.

Submitting is one unit of work: the order is locked (`FOR UPDATE` on PostgreSQL; SQLite's
write transactions are serial already), and a submitted order answers with what it already
is, so a double click, a retry or a concurrent submit creates nothing twice. In that one
transaction: the order is frozen with its prices, the prospect becomes an IN_PROGRESS
customer, the subscriptions are created (through the subscriptions use case, enlisted in this
transaction), the addendum PDF is stored on the customer, the RFI link is made, the two mails
are enqueued and `order.submitted` is recorded. Any error rolls all of it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Principal, PrincipalKind, Scope
from prism_domain.catalogue import ProductKind
from prism_domain.contacts import ContactType
from prism_domain.customers import CustomerStatus
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.order_events import OrderSubmitted
from prism_domain.orders import OrderDetails, OrderQuote, validate_order, validate_submission
from prism_domain.organisations import OrganisationKind
from prism_domain.rfi import RfiAnswers, check_link
from prism_domain.text import clean_email, clean_name
from prism_graph.access import visible_customers
from prism_graph.billing import service as billing
from prism_graph.database import Database, UnitOfWork
from prism_graph.identity.secrets import new_token, token_hash
from prism_graph.mail.outbox import Attachment, MailSignal, enqueue
from prism_graph.mail.templates import compose
from prism_graph.orders import pdf
from prism_graph.orders.pricing import PricedOrder, api_field, price_lines, pricing_day
from prism_graph.organisations import zones
from prism_graph.subscriptions import service as subscriptions
from prism_platform.db import utcnow
from prism_tables.catalogue import Product, ProductPrice, Program
from prism_tables.contacts import AccountContact, AccountContactType, AccountContactTypeMember
from prism_tables.customers import Customer
from prism_tables.identity import ApiClient, User
from prism_tables.orders import CustomerAttachment, Order, OrderLine, OrderStatus, RfiRequest
from prism_tables.organisations import Organisation

RFI_TOKEN_PREFIX = "prism_rfi"  # noqa: S105 - a token prefix, not a secret


@dataclass(frozen=True)
class OrdersConfig:
    base_url: str = "http://127.0.0.1:8000"
    rfi_ttl: timedelta = timedelta(days=30)
    wake: MailSignal | None = None

    def rfi_url(self, token: str) -> str:
        return f"{self.base_url}/rfi?token={token}"


@dataclass(frozen=True)
class NewLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class OrderChanges:
    """What a create, save or submit sets; None leaves a field as it is."""

    permitted_users: int | None = None
    start_date: date | None = None
    lines: Sequence[NewLine] | None = None
    order_number: str | None = None
    order_number_not_required: bool | None = None
    msa_acknowledged: bool | None = None
    authorised_acknowledged: bool | None = None
    implementation_lead_name: str | None = None
    implementation_lead_email: str | None = None


def reference(order_id: int) -> str:
    return f"ORD-{order_id:06d}"


def _not_found(field: str = "id") -> list[FieldError]:
    return [FieldError(field, ErrorCode.NOT_FOUND, "No such order.")]


# --- loading ------------------------------------------------------------------------------


async def _visible_order(
    session: AsyncSession, scope: Scope | None, order_id: int, *, lock: bool = False
) -> Order | None:
    stmt = select(Order).where(
        Order.id == order_id,
        Order.customer_id.in_(select(Customer.id).where(visible_customers(scope))),
    )
    if lock:
        stmt = stmt.with_for_update(of=Order)
    row: Order | None = await session.scalar(stmt)
    return row


async def _lines(session: AsyncSession, order_id: int) -> list[OrderLine]:
    rows = await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
    )
    return list(rows)


async def partner_today(session: AsyncSession, order: Order) -> date:
    """Today in the zone of the partner ordering (the customer's owner: a partner, or the
    distributor for its direct customers): the earliest start date it may choose."""
    owner = await session.scalar(select(Customer.owner_id).where(Customer.id == order.customer_id))
    return await zones.today_for(session.scalar, owner)


async def _price(
    session: AsyncSession, order: Order, lines: Sequence[OrderLine], today: date
) -> PricedOrder:
    ids = sorted({line.product_id for line in lines})
    products = {p.id: p for p in await session.scalars(select(Product).where(Product.id.in_(ids)))}
    prices: dict[int, list[ProductPrice]] = {i: [] for i in ids}
    for row in await session.scalars(
        select(ProductPrice)
        .where(ProductPrice.product_id.in_(ids))
        .order_by(ProductPrice.product_id, ProductPrice.effective_from)
    ):
        prices[row.product_id].append(row)
    program_ids = {p.program_id for p in products.values()}
    programs = {
        p.id: p for p in await session.scalars(select(Program).where(Program.id.in_(program_ids)))
    }
    return price_lines(order, lines, products, prices, programs, on=pricing_day(order, today))


# --- drafts (O2) ----------------------------------------------------------------------------


async def _apply(
    session: AsyncSession, order: Order, changes: OrderChanges
) -> tuple[list[OrderLine], list[FieldError]]:
    """Write `changes` to a draft; the errors a draft may not have (a submit checks more)."""
    errors: list[FieldError] = []
    if changes.permitted_users is not None:
        order.permitted_users = changes.permitted_users
    if changes.start_date is not None:
        order.start_date = changes.start_date
    if changes.order_number is not None:
        order.order_number = changes.order_number.strip()[:50] or None
        if len(changes.order_number.strip()) > 50:
            errors.append(
                FieldError(
                    "orderNumber",
                    ErrorCode.TOO_LONG,
                    "The order number must be at most 50 characters.",
                )
            )
    if changes.order_number_not_required is not None:
        order.order_number_not_required = changes.order_number_not_required
    if changes.msa_acknowledged is not None:
        order.msa_acknowledged = changes.msa_acknowledged
    if changes.authorised_acknowledged is not None:
        order.authorised_acknowledged = changes.authorised_acknowledged
    if changes.implementation_lead_name is not None:
        name = clean_name(
            changes.implementation_lead_name,
            field="implementationLeadName",
            label="The implementation lead's name",
            max_length=200,
            errors=errors,
        )
        order.implementation_lead_name = name or None
    if changes.implementation_lead_email is not None:
        text = changes.implementation_lead_email.strip()
        email = clean_email(text, field="implementationLeadEmail", errors=errors) if text else ""
        order.implementation_lead_email = email or None
    if changes.lines is not None:
        await session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
        known = set(
            await session.scalars(
                select(Product.id).where(Product.id.in_({n.product_id for n in changes.lines}))
            )
        )
        for index, new in enumerate(changes.lines):
            if new.product_id not in known:
                errors.append(
                    FieldError(f"lines[{index}].productId", ErrorCode.NOT_FOUND, "No such product.")
                )
        if not errors:
            seen: set[int] = set()
            for index, new in enumerate(changes.lines):
                if new.product_id in seen:
                    continue  # validate_order reports the duplicate SKU
                seen.add(new.product_id)
                session.add(
                    OrderLine(
                        order_id=order.id,
                        position=index,
                        product_id=new.product_id,
                        quantity=new.quantity,
                    )
                )
            await session.flush()
    lines = await _lines(session, order.id)
    if errors:
        return lines, errors
    priced = await _price(session, order, lines, await partner_today(session, order))
    errors += priced.errors
    if (
        changes.lines is not None
        and changes.lines
        and len({n.product_id for n in changes.lines}) < len(changes.lines)
    ):
        errors += _duplicates(changes.lines)
    errors += [
        api_field(e)
        for e in validate_order(
            lines=priced.lines,
            permitted_users=order.permitted_users if order.permitted_users is not None else 1,
            currency=priced.currency or "XXX",
        )
    ]
    return lines, errors


def _duplicates(lines: Sequence[NewLine]) -> list[FieldError]:
    seen: set[int] = set()
    errors = []
    for index, line in enumerate(lines):
        if line.product_id in seen:
            errors.append(
                FieldError(
                    f"lines[{index}].productId",
                    ErrorCode.DUPLICATE,
                    "This product is already on the order: change its quantity instead.",
                )
            )
        seen.add(line.product_id)
    return errors


async def create_order(
    database: Database, scope: Scope | None, customer_id: int, changes: OrderChanges
) -> Order | list[FieldError]:
    """O2: an order for a prospect or a customer, saved as a draft."""
    async with database.unit_of_work() as uow:
        session = uow.session
        customer = await session.scalar(
            select(Customer.id).where(Customer.id == customer_id, visible_customers(scope))
        )
        if customer is None:
            return [FieldError("customerId", ErrorCode.NOT_FOUND, "No such customer.")]
        order = Order(customer_id=customer_id, status=OrderStatus.DRAFT)
        session.add(order)
        await session.flush()
        _, errors = await _apply(session, order, changes)
        if errors:
            return errors
        await uow.commit()
        return order


async def save_order(
    database: Database, scope: Scope | None, order_id: int, changes: OrderChanges
) -> Order | list[FieldError]:
    """O2: change a draft; the customer's status does not change."""
    async with database.unit_of_work() as uow:
        order = await _visible_order(uow.session, scope, order_id, lock=True)
        if order is None:
            return _not_found()
        if order.status is not OrderStatus.DRAFT:
            return [
                FieldError(
                    "id", ErrorCode.CONFLICT, "This order is submitted: it can no longer change."
                )
            ]
        _, errors = await _apply(uow.session, order, changes)
        if errors:
            return errors
        await uow.commit()
        return order


# --- submitting (O4, O5, O7) ----------------------------------------------------------------


class _EnlistedUnitOfWork(UnitOfWork):
    """The submit's unit of work, lent to another use case: its `commit` only flushes and its
    events join the submit's, so the whole submit commits (or rolls back) once."""

    def __init__(self, outer: UnitOfWork) -> None:
        super().__init__(outer.session, None)
        self._outer = outer

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def record(self, *events: Any) -> None:
        self._outer.record(*events)

    async def commit(self) -> None:
        await self.session.flush()


class _EnlistedDatabase(Database):
    def __init__(self, outer: UnitOfWork, database: Database) -> None:
        super().__init__(database.engine)
        self._outer = outer

    def unit_of_work(self) -> UnitOfWork:
        return _EnlistedUnitOfWork(self._outer)


@dataclass
class SubmitContext:
    principal: Principal
    config: OrdersConfig = field(default_factory=OrdersConfig)


async def submit_order(
    database: Database,
    scope: Scope | None,
    order_id: int,
    changes: OrderChanges,
    context: SubmitContext,
) -> Order | list[FieldError]:
    async with database.unit_of_work() as uow:
        session = uow.session
        order = await _visible_order(session, scope, order_id, lock=True)
        if order is None:
            return _not_found()
        if order.status is OrderStatus.SUBMITTED:
            # Idempotent: a repeated submit answers with what was done (the commit only ends
            # the transaction and its lock; a rollback would expire the row we return).
            await uow.commit()
            return order
        lines, errors = await _apply(session, order, changes)
        if errors:
            return errors
        today = await partner_today(session, order)
        priced = await _price(session, order, lines, today)
        errors = _submission_errors(order, priced, today)
        quote = priced.quote(order)
        if errors or quote is None or priced.currency is None:
            return errors or [FieldError(None, ErrorCode.INVALID, "The order is incomplete.")]
        customer = await session.scalar(
            select(Customer).where(Customer.id == order.customer_id).with_for_update(key_share=True)
        )
        assert customer is not None  # a foreign key guarantees it
        errors = await _create_subscriptions(uow, database, scope, order, priced)
        if errors:
            return errors
        now = utcnow()
        submitter, submitter_email = await _submitter(session, context.principal)
        _freeze(order, priced, quote, now, submitter, context.principal)
        if customer.status is CustomerStatus.PROSPECT:
            customer.status = CustomerStatus.IN_PROGRESS
        owner = await session.get(Organisation, customer.owner_id)
        distributor = await session.scalar(
            select(Organisation.name).where(Organisation.kind == OrganisationKind.DISTRIBUTOR)
        )
        assert owner is not None
        facts = pdf.AddendumFacts(
            reference=reference(order.id),
            msp_name=owner.name,
            distributor_name=distributor or "the distributor",
            company_name=customer.name,
            company_domain=customer.domain,
            order_number=order.order_number,
            submitted_at=now,
            submitted_by=submitter,
            implementation_lead=f"{order.implementation_lead_name} <{order.implementation_lead_email}>",
            quote=quote,
            currency=priced.currency,
        )
        document = pdf.render_addendum(facts)
        filename = pdf.filename_for(facts.reference)
        session.add(
            CustomerAttachment(
                customer_id=customer.id,
                order_id=order.id,
                filename=filename,
                content_type=pdf.CONTENT_TYPE,
                size=len(document),
                content=document,
            )
        )
        token = new_token(RFI_TOKEN_PREFIX)
        expires_at = now + context.config.rfi_ttl
        session.add(
            RfiRequest(
                order_id=order.id,
                customer_id=customer.id,
                token_hash=token_hash(token),
                expires_at=expires_at,
            )
        )
        await session.flush()
        await _mail_msp(
            session,
            context,
            order,
            facts,
            quote,
            owner,
            submitter_email,
            Attachment(filename, pdf.CONTENT_TYPE, document),
        )
        await enqueue(
            session,
            compose(
                "rfi_requested",
                to=[order.implementation_lead_email or ""],
                idempotency_key=f"order:{order.id}:rfi:lead",
                lead_name=order.implementation_lead_name,
                msp_name=owner.name,
                company_name=customer.name,
                order_reference=facts.reference,
                link=context.config.rfi_url(token),
                expires_at=expires_at,
            ),
            wake=context.config.wake,
        )
        uow.record(
            OrderSubmitted(
                aggregate_id=str(order.id),
                customer_id=customer.id,
                partner_id=owner.id if owner.kind == OrganisationKind.PARTNER else None,
                order_number=order.order_number,
                start_date=quote.start_date.isoformat(),
                currency=priced.currency,
                subscription_ids=[line.subscription_id for line in lines if line.subscription_id],
                ongoing_monthly_payment=quote.ongoing_monthly_payment.to_json(),
                one_time_fees=quote.one_time_fees.to_json(),
                first_payment=quote.first_payment.to_json(),
            )
        )
        await uow.commit()
        return order


def _submission_errors(order: Order, priced: PricedOrder, today: date) -> list[FieldError]:
    errors = list(priced.errors)
    users: object = order.permitted_users
    if users is None:
        errors.append(
            FieldError("permittedUsers", ErrorCode.REQUIRED, "Permitted users is required.")
        )
        users = 1
    details = OrderDetails(
        order_number=order.order_number,
        order_number_not_required=order.order_number_not_required,
        msa_acknowledged=order.msa_acknowledged,
        authorised_acknowledged=order.authorised_acknowledged,
    )
    errors += [
        api_field(e)
        for e in validate_submission(
            details,
            lines=priced.lines,
            permitted_users=users,
            currency=priced.currency or "XXX",
            start_date=order.start_date,
            today=today,
        )
    ]
    if not order.implementation_lead_name:
        errors.append(
            FieldError(
                "implementationLeadName",
                ErrorCode.REQUIRED,
                "Name the customer's implementation lead: the RFI goes to them.",
            )
        )
    if not order.implementation_lead_email:
        errors.append(
            FieldError(
                "implementationLeadEmail",
                ErrorCode.REQUIRED,
                "The implementation lead's e-mail address is required: the RFI link goes to it.",
            )
        )
    return errors


async def _create_subscriptions(
    uow: UnitOfWork,
    database: Database,
    scope: Scope | None,
    order: Order,
    priced: PricedOrder,
) -> list[FieldError]:
    """O7: one subscription per licence or usage line; one-time fees are charged once, on
    the start date, so that the first month's invoice carries them (P3)."""
    enlisted = _EnlistedDatabase(uow, database)
    assert order.start_date is not None
    errors: list[FieldError] = []
    for index, (line, domain_line) in enumerate(zip(priced.rows, priced.lines, strict=True)):
        if domain_line.product.kind is ProductKind.ONE_TIME_FEE:
            charged = await billing.add_one_time_fee(
                enlisted,
                scope,
                customer_id=order.customer_id,
                product_id=line.product_id,
                day=order.start_date,
                quantity=line.quantity,
            )
            if isinstance(charged, list):
                errors += [_line_field(e, index) for e in charged]
            continue
        result = await subscriptions.create_subscription(
            enlisted,
            scope,
            subscriptions.NewSubscription(
                customer_id=order.customer_id,
                product_id=line.product_id,
                quantity=line.quantity,
                start_date=order.start_date,
                billing_term=domain_line.product.billing_term,
            ),
        )
        if isinstance(result, list):
            errors += [_line_field(e, index) for e in result]
        else:
            line.subscription_id = result.id
    return errors


def _line_field(error: FieldError, index: int) -> FieldError:
    if error.field in ("productId", "quantity"):
        return FieldError(f"lines[{index}].{error.field}", error.code, error.message)
    return error


def _freeze(
    order: Order,
    priced: PricedOrder,
    quote: OrderQuote,
    now: datetime,
    submitter: str,
    principal: Principal,
) -> None:
    for line, domain_line in zip(priced.rows, priced.lines, strict=True):
        line.unit_price = domain_line.product.buy_price.amount
    order.status = OrderStatus.SUBMITTED
    order.currency = priced.currency
    order.ongoing_monthly_payment = quote.ongoing_monthly_payment.amount
    order.annual_payment = quote.annual_payment.amount
    order.one_time_fees = quote.one_time_fees.amount
    order.first_payment = quote.first_payment.amount
    order.submitted_at = now
    order.submitted_by = submitter
    order.submitted_by_user_id = principal.id if principal.kind is PrincipalKind.USER else None


async def _submitter(session: AsyncSession, principal: Principal) -> tuple[str, str | None]:
    """Who submitted, for the addendum, and their address (staff users have one)."""
    if principal.kind is PrincipalKind.USER:
        user = await session.get(User, principal.id)
        if user is not None:
            return f"{user.display_name} <{user.email}>", user.email
    if principal.kind is PrincipalKind.API_CLIENT:
        client = await session.get(ApiClient, principal.id)
        if client is not None:
            return f"{client.name} (API client {client.client_id})", None
    return principal.label, None


async def _billing_contacts(session: AsyncSession, organisation_id: int) -> list[str]:
    rows = await session.scalars(
        select(AccountContact.email)
        .join(AccountContactTypeMember, AccountContactTypeMember.contact_id == AccountContact.id)
        .join(AccountContactType, AccountContactType.id == AccountContactTypeMember.contact_type_id)
        .where(
            AccountContactType.organisation_id == organisation_id,
            AccountContactType.type == ContactType.BILLING,
        )
        .order_by(AccountContact.id)
    )
    return sorted(set(rows))


async def _mail_msp(
    session: AsyncSession,
    context: SubmitContext,
    order: Order,
    facts: pdf.AddendumFacts,
    quote: OrderQuote,
    owner: Organisation,
    submitter_email: str | None,
    addendum: Attachment,
) -> None:
    """O5: the addendum to the MSP that submitted: the submitting user; an API client has no
    mailbox, so then the partner's BILLING contacts (who receive its invoices too)."""
    recipients = (
        [submitter_email] if submitter_email else await _billing_contacts(session, owner.id)
    )
    if not recipients:
        return  # nobody to mail: the addendum is still on the customer's attachments
    await enqueue(
        session,
        compose(
            "order_submitted",
            to=recipients,
            idempotency_key=f"order:{order.id}:submitted:msp",
            attachments=[addendum],
            msp_name=facts.msp_name,
            company_name=facts.company_name,
            order_reference=facts.reference,
            order_number=facts.order_number,
            start_date=quote.start_date,
            permitted_users=quote.permitted_users,
            currency=facts.currency,
            ongoing_monthly_payment=quote.ongoing_monthly_payment.amount,
            one_time_fees=quote.one_time_fees.amount,
            first_payment=quote.first_payment.amount,
            implementation_lead=facts.implementation_lead,
        ),
        wake=context.config.wake,
    )


# --- the Request for Information (O6) ------------------------------------------------------


@dataclass(frozen=True)
class RfiView:
    """What the form shows, read while the session is open."""

    company_name: str
    msp_name: str
    order_id: int
    implementation_lead_name: str | None
    expires_at: datetime
    completed_at: datetime | None
    answers: dict[str, Any] | None
    order: Order


async def _rfi_view(session: AsyncSession, request: RfiRequest) -> RfiView:
    order = await session.get(Order, request.order_id)
    customer = await session.get(Customer, request.customer_id)
    assert order is not None and customer is not None
    owner = await session.get(Organisation, customer.owner_id)
    return RfiView(
        company_name=customer.name,
        msp_name=owner.name if owner else "",
        order_id=order.id,
        implementation_lead_name=order.implementation_lead_name,
        expires_at=request.expires_at,
        completed_at=request.completed_at,
        answers=request.answers,
        order=order,
    )


async def _by_token(session: AsyncSession, token: str, *, lock: bool = False) -> RfiRequest | None:
    stmt = select(RfiRequest).where(RfiRequest.token_hash == token_hash(token.strip()))
    if lock:
        stmt = stmt.with_for_update()
    row: RfiRequest | None = await session.scalar(stmt)
    return row


def _unknown_link() -> list[FieldError]:
    return [
        FieldError(
            "token",
            ErrorCode.NOT_FOUND,
            "This Request for Information link is not valid; check that it was copied whole.",
        )
    ]


async def rfi_by_token(database: Database, token: str) -> RfiView | list[FieldError]:
    """The form behind a link, while the link is open."""
    reader = database.reader()
    try:
        request = await _by_token(reader.session, token)
        if request is None:
            return _unknown_link()
        refused = check_link(
            completed_at=request.completed_at, expires_at=request.expires_at, now=utcnow()
        )
        if refused is not None:
            return [refused]
        return await _rfi_view(reader.session, request)
    finally:
        await reader.close()


def _answers(raw: dict[str, Any]) -> RfiAnswers | list[FieldError]:
    try:
        return RfiAnswers.parse(**raw)
    except DomainValidationError as exc:
        return [_rfi_field(e) for e in exc.errors]


def _rfi_field(error: FieldError) -> FieldError:
    head, _, rest = (error.field or "").partition("[")
    parts = head.split("_")
    camel = parts[0] + "".join(p.title() for p in parts[1:])
    return FieldError(f"answers.{camel}" + (f"[{rest}" if rest else ""), error.code, error.message)


async def submit_rfi_by_token(
    database: Database, token: str, raw_answers: dict[str, Any]
) -> RfiView | list[FieldError]:
    """O6 through the link: the answers are stored once; the link is then spent."""
    answers = _answers(raw_answers)
    async with database.unit_of_work() as uow:
        request = await _by_token(uow.session, token, lock=True)
        if request is None:
            return _unknown_link()
        refused = check_link(
            completed_at=request.completed_at, expires_at=request.expires_at, now=utcnow()
        )
        if refused is not None:
            return [refused]
        if isinstance(answers, list):
            return answers
        order = await uow.session.get(Order, request.order_id)
        assert order is not None
        _complete(request, answers, f"{order.implementation_lead_name} (RFI link)")
        view = await _rfi_view(uow.session, request)
        await uow.commit()
        return view


async def complete_rfi(
    database: Database,
    scope: Scope | None,
    order_id: int,
    raw_answers: dict[str, Any],
    principal: Principal,
) -> RfiView | list[FieldError]:
    """O6 by the partner right after ordering (or any time while it is not completed)."""
    answers = _answers(raw_answers)
    async with database.unit_of_work() as uow:
        order = await _visible_order(uow.session, scope, order_id)
        if order is None:
            return _not_found("orderId")
        request = await uow.session.scalar(
            select(RfiRequest).where(RfiRequest.order_id == order.id).with_for_update()
        )
        if request is None:
            return [
                FieldError(
                    "orderId", ErrorCode.CONFLICT, "Submit the order first: the RFI follows it."
                )
            ]
        if request.completed_at is not None:
            return [
                FieldError(
                    "orderId", ErrorCode.ALREADY_USED, "This order's RFI is already completed."
                )
            ]
        if isinstance(answers, list):
            return answers
        _complete(request, answers, principal.label)
        view = await _rfi_view(uow.session, request)
        await uow.commit()
        return view


def _complete(request: RfiRequest, answers: RfiAnswers, by: str) -> None:
    request.answers = answers.to_json()
    request.completed_at = datetime.now(UTC)
    request.completed_by = by[:320]
