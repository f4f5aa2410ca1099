"""The Request for Information (O6): the link a submit opens, the form behind it, and its
answers, given once through the link or by the partner.

The link carries a token stored only as its hash; it expires (`OrdersConfig.rfi_ttl`) and is
spent once the form is answered. The use cases that answer write in their caller's unit of
work and commit nothing themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Principal, Scope
from prism_domain.errors import DomainValidationError, ErrorCode, FieldError
from prism_domain.rfi import RfiAnswers, check_link
from prism_graph.database import Database, UnitOfWork
from prism_graph.identity.secrets import new_token, token_hash
from prism_graph.orders.loading import not_found, visible_order
from prism_platform.db import utcnow
from prism_tables.customers import Customer
from prism_tables.orders import Order, RfiRequest
from prism_tables.organisations import Organisation

RFI_TOKEN_PREFIX = "prism_rfi"  # noqa: S105 - a token prefix, not a secret


def open_rfi(
    session: AsyncSession, order: Order, now: datetime, ttl: timedelta
) -> tuple[str, datetime]:
    """O5: a submitted order's RFI request; its link's token (shown only in the mail) and
    when the link expires."""
    token = new_token(RFI_TOKEN_PREFIX)
    expires_at = now + ttl
    session.add(
        RfiRequest(
            order_id=order.id,
            customer_id=order.customer_id,
            token_hash=token_hash(token),
            expires_at=expires_at,
        )
    )
    return token, expires_at


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


async def _open_link(
    session: AsyncSession, token: str, *, lock: bool = False
) -> RfiRequest | list[FieldError]:
    """The request behind a link while the link is open; else why it is not."""
    stmt = select(RfiRequest).where(RfiRequest.token_hash == token_hash(token.strip()))
    if lock:
        stmt = stmt.with_for_update()
    request: RfiRequest | None = await session.scalar(stmt)
    if request is None:
        return [
            FieldError(
                "token",
                ErrorCode.NOT_FOUND,
                "This Request for Information link is not valid; check that it was copied whole.",
            )
        ]
    refused = check_link(
        completed_at=request.completed_at, expires_at=request.expires_at, now=utcnow()
    )
    return [refused] if refused is not None else request


async def rfi_by_token(database: Database, token: str) -> RfiView | list[FieldError]:
    """The form behind a link, while the link is open."""
    reader = database.reader()
    try:
        request = await _open_link(reader.session, token)
        if isinstance(request, list):
            return request
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
    uow: UnitOfWork, token: str, raw_answers: dict[str, Any]
) -> RfiView | list[FieldError]:
    """O6 through the link: the answers are stored once; the link is then spent."""
    answers = _answers(raw_answers)
    request = await _open_link(uow.session, token, lock=True)
    if isinstance(request, list):
        return request
    if isinstance(answers, list):
        return answers
    order = await uow.session.get(Order, request.order_id)
    assert order is not None
    _complete(request, answers, f"{order.implementation_lead_name} (RFI link)")
    return await _rfi_view(uow.session, request)


async def complete_rfi(
    uow: UnitOfWork,
    scope: Scope | None,
    order_id: int,
    raw_answers: dict[str, Any],
    principal: Principal,
) -> RfiView | list[FieldError]:
    """O6 by the partner right after ordering (or any time while it is not completed)."""
    answers = _answers(raw_answers)
    order = await visible_order(uow.session, scope, order_id)
    if order is None:
        return not_found("orderId")
    request = await uow.session.scalar(
        select(RfiRequest).where(RfiRequest.order_id == order.id).with_for_update()
    )
    if request is None:
        return [
            FieldError("orderId", ErrorCode.CONFLICT, "Submit the order first: the RFI follows it.")
        ]
    if request.completed_at is not None:
        return [
            FieldError("orderId", ErrorCode.ALREADY_USED, "This order's RFI is already completed.")
        ]
    if isinstance(answers, list):
        return answers
    _complete(request, answers, principal.label)
    return await _rfi_view(uow.session, request)


def _complete(request: RfiRequest, answers: RfiAnswers, by: str) -> None:
    request.answers = answers.to_json()
    request.completed_at = datetime.now(UTC)
    request.completed_by = by[:320]
