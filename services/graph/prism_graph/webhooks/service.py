"""Use cases of the webhook screens: validate, write, record events, commit. Every lookup
goes through the caller's partner, so another partner's id reads as one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.errors import ErrorCode, FieldError
from prism_domain.webhooks import (
    WebhookResendRequested,
    clean_description,
    clean_event_types,
    clean_url,
    endpoint_of,
    new_secret,
)
from prism_graph.database import Database
from prism_graph.webhooks.config import WebhookApiConfig
from prism_platform.db import utcnow
from prism_tables.webhooks import WebhookDelivery, WebhookEndpoint

NO_PARTNER = FieldError(
    None, ErrorCode.NOT_FOUND, "Webhooks belong to a partner: act for one partner first."
)
NO_ENDPOINT = FieldError("id", ErrorCode.NOT_FOUND, "No such webhook endpoint.")
NO_DELIVERY = FieldError("id", ErrorCode.NOT_FOUND, "No such webhook delivery.")


@dataclass(frozen=True)
class WithSecret:
    endpoint: WebhookEndpoint
    secret: str


async def create(
    database: Database,
    config: WebhookApiConfig,
    partner_id: int,
    *,
    url: str,
    event_types: list[str],
    description: str | None,
    enabled: bool,
) -> WithSecret | list[FieldError]:
    checked = endpoint_of(
        url=url,
        event_types=event_types,
        description=description,
        allow_http_loopback=config.allow_http_loopback,
    )
    if isinstance(checked, list):
        return checked
    async with database.unit_of_work() as uow:
        count = await uow.session.scalar(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.partner_id == partner_id)
        )
        if (count or 0) >= config.max_endpoints:
            return [
                FieldError(
                    None,
                    ErrorCode.LIMIT_REACHED,
                    f"A partner may have at most {config.max_endpoints} webhook endpoints: "
                    "delete one first.",
                )
            ]
        secret = new_secret()
        row = WebhookEndpoint(
            partner_id=partner_id,
            url=checked.url,
            event_types=[t.value for t in checked.event_types],
            description=checked.description,
            enabled=enabled,
            secret_encrypted=config.cipher.encrypt(secret),
        )
        uow.session.add(row)
        await uow.commit()
        return WithSecret(row, secret)


async def _endpoint(session: AsyncSession, partner_id: int, pk: int) -> WebhookEndpoint | None:
    found: WebhookEndpoint | None = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == pk, WebhookEndpoint.partner_id == partner_id
        )
    )
    return found


async def update(
    database: Database,
    config: WebhookApiConfig,
    partner_id: int,
    pk: int,
    *,
    url: str | None,
    event_types: list[str] | None,
    description: str | None,
    enabled: bool | None,
) -> WebhookEndpoint | list[FieldError]:
    errors: list[FieldError] = []
    values: dict[str, object] = {}
    if url is not None:
        clean = clean_url(url, allow_http_loopback=config.allow_http_loopback)
        if isinstance(clean, FieldError):
            errors.append(clean)
        else:
            values["url"] = clean
    if event_types is not None:
        types = clean_event_types(event_types)
        if isinstance(types, FieldError):
            errors.append(types)
        else:
            values["event_types"] = [t.value for t in types]
    if description is not None:
        words = clean_description(description)
        if isinstance(words, FieldError):
            errors.append(words)
        else:
            values["description"] = words
    if enabled is not None:
        values["enabled"] = enabled
    if errors:
        return errors
    async with database.unit_of_work() as uow:
        row = await _endpoint(uow.session, partner_id, pk)
        if row is None:
            return [NO_ENDPOINT]
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        await uow.commit()
        return row


async def rotate_secret(
    database: Database, config: WebhookApiConfig, partner_id: int, pk: int
) -> WithSecret | list[FieldError]:
    """A new secret at once; attempts made from now on are signed with it."""
    async with database.unit_of_work() as uow:
        row = await _endpoint(uow.session, partner_id, pk)
        if row is None:
            return [NO_ENDPOINT]
        secret = new_secret()
        row.secret_encrypted = config.cipher.encrypt(secret)
        row.updated_at = utcnow()
        await uow.commit()
        return WithSecret(row, secret)


async def remove(database: Database, partner_id: int, pk: int) -> int | list[FieldError]:
    async with database.unit_of_work() as uow:
        row = await _endpoint(uow.session, partner_id, pk)
        if row is None:
            return [NO_ENDPOINT]
        # Its deliveries and their attempts go with it (ON DELETE CASCADE).
        await uow.session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == pk))
        await uow.commit()
        return pk


async def request_resend(
    database: Database, partner_id: int, pk: int
) -> WebhookDelivery | list[FieldError]:
    """Ask the worker for one more attempt, through the outbox (nothing is sent from here)."""
    async with database.unit_of_work() as uow:
        row = await uow.session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.id == pk, WebhookDelivery.partner_id == partner_id
            )
        )
        if row is None:
            return [NO_DELIVERY]
        uow.record(
            WebhookResendRequested(
                aggregate_id=str(row.id), partner_id=partner_id, delivery_id=row.id
            )
        )
        await uow.commit()
        return row
