"""The e-mails identity sends, through the mail outbox in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from prism_domain.access import Principal
from prism_graph.identity.secrets import token_hash
from prism_graph.mail.outbox import MailSignal, enqueue
from prism_graph.mail.templates import compose
from prism_tables.identity import User
from prism_tables.organisations import Organisation


def invitation_mailer(wake: MailSignal | None = None):  # type: ignore[no-untyped-def]
    async def send(
        session: AsyncSession,
        user: User,
        link: str,
        expires_at: datetime,
        principal: Principal | None,
    ) -> None:
        organisation = await session.get(Organisation, user.organisation_id)
        message = compose(
            "user_invitation",
            to=[user.email],
            # One message per invitation link: a retried transaction cannot send it twice.
            idempotency_key=f"user-invitation:{token_hash(link)}",
            recipient_name=user.display_name,
            inviter_name=principal.label if principal else "Prism",
            organisation_name=organisation.name if organisation else "Prism",
            link=link,
            expires_at=expires_at,
        )
        await enqueue(session, message, wake=wake)

    return send
