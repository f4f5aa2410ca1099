"""Submitting an order (O2-O7), in the caller's one unit of work.

The order is locked (`FOR UPDATE` on PostgreSQL; SQLite's write transactions are serial
already), and a submitted order answers with what it already is, so a double click, a retry or
a concurrent submit creates nothing twice. In that one unit of work: the order is frozen with
its prices, the prospect becomes an IN_PROGRESS customer, the subscriptions are created and the
one-time fees charged (through the subscriptions' and billing's use cases, given the same unit
of work), the addendum PDF is stored on the customer, the RFI link is made, the two mails are
enqueued and `order.submitted` is recorded. The caller commits it once (`Database.run`); with
any error nothing of it stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Principal, PrincipalKind, Scope
from prism_domain.catalogue import ProductKind
from prism_domain.customers import CustomerStatus
from prism_domain.errors import ErrorCode, FieldError
from prism_domain.order_events import OrderSubmitted
from prism_domain.orders import OrderDetails, OrderQuote, validate_submission
from prism_domain.organisations import OrganisationKind
from prism_graph.billing import charges
from prism_graph.database import UnitOfWork
from prism_graph.mail.outbox import Attachment
from prism_graph.orders import pdf
from prism_graph.orders.config import OrdersConfig
from prism_graph.orders.drafts import OrderChanges, apply_changes
from prism_graph.orders.loading import not_found, partner_today, visible_order
from prism_graph.orders.mails import mail_addendum, mail_rfi_link
from prism_graph.orders.pricing import PricedOrder, api_field, price_stored
from prism_graph.orders.rfi import open_rfi
from prism_graph.subscriptions import service as subscriptions
from prism_platform.db import utcnow
from prism_tables.customers import Customer
from prism_tables.identity import ApiClient, User
from prism_tables.orders import CustomerAttachment, Order, OrderStatus, reference
from prism_tables.organisations import Organisation


@dataclass
class SubmitContext:
    principal: Principal
    config: OrdersConfig = field(default_factory=OrdersConfig)


async def submit_order(
    uow: UnitOfWork,
    scope: Scope | None,
    order_id: int,
    changes: OrderChanges,
    context: SubmitContext,
) -> Order | list[FieldError]:
    session = uow.session
    order = await visible_order(session, scope, order_id, lock=True)
    if order is None:
        return not_found()
    if order.status is OrderStatus.SUBMITTED:
        # Idempotent: a repeated submit answers with what was done (the caller's commit only
        # ends the transaction and its lock; a rollback would expire the row we return).
        return order
    lines, errors = await apply_changes(session, order, changes)
    if errors:
        return errors
    today = await partner_today(session, order)
    priced = await price_stored(session, order, lines, today)
    errors = _submission_errors(order, priced, today)
    quote = priced.quote(order)
    if errors or quote is None or priced.currency is None:
        return errors or [FieldError(None, ErrorCode.INVALID, "The order is incomplete.")]
    customer = await session.scalar(
        select(Customer).where(Customer.id == order.customer_id).with_for_update(key_share=True)
    )
    assert customer is not None  # a foreign key guarantees it
    errors = await _create_subscriptions(uow, scope, order, priced)
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
    addendum = _store_addendum(session, order, facts)
    token, expires_at = open_rfi(session, order, now, context.config.rfi_ttl)
    await session.flush()
    wake = context.config.wake
    await mail_addendum(session, order, facts, quote, owner, submitter_email, addendum, wake)
    await mail_rfi_link(session, order, facts, context.config.rfi_url(token), expires_at, wake)
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
    uow: UnitOfWork, scope: Scope | None, order: Order, priced: PricedOrder
) -> list[FieldError]:
    """O7: one subscription per licence or usage line; one-time fees are charged once, on
    the start date, so that the first month's invoice carries them (P3). Both use cases
    write in the submit's unit of work."""
    assert order.start_date is not None
    errors: list[FieldError] = []
    for index, (line, domain_line) in enumerate(zip(priced.rows, priced.lines, strict=True)):
        if domain_line.product.kind is ProductKind.ONE_TIME_FEE:
            charged = await charges.add_one_time_fee(
                uow,
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
            uow,
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
        line.retail_unit_price = domain_line.product.rrp.amount
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


def _store_addendum(session: AsyncSession, order: Order, facts: pdf.AddendumFacts) -> Attachment:
    """O5: the addendum PDF, kept on the customer's attachments; the attachment to mail."""
    document = pdf.render_addendum(facts)
    filename = pdf.filename_for(facts.reference)
    session.add(
        CustomerAttachment(
            customer_id=order.customer_id,
            order_id=order.id,
            filename=filename,
            content_type=pdf.CONTENT_TYPE,
            size=len(document),
            content=document,
        )
    )
    return Attachment(filename, pdf.CONTENT_TYPE, document)
