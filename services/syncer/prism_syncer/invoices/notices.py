"""The sync's notices to a program's notification addresses (S2, S8).

- A run (invoice or product sync) that ends FAILURE mails a link to its status.
- A price change mails one warning per product sync run it caused, listing every product
  whose service prices were updated (a price list import of hundreds of changes is one
  mail, not hundreds: the changes are coalesced into one run by `products.handlers`).

The messages are in `templates/` here and extend the layout every Prism mail shares
(`prism_platform.mail_templates` renders them). Mail goes through the shared mail outbox
(`prism_platform.mail.enqueue_sync`), in the transaction that records the run: the notice
exists exactly when the run's outcome does, and its idempotency key (one per run) means a
repeated finalisation never mails twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from prism_platform.links import Links
from prism_platform.mail import enqueue_sync
from prism_platform.mail_templates import MailTemplates
from prism_tables.sync.connections import ProgramSyncSettings

# The notices' own messages; the layout they extend is the one all Prism mail shares.
TEMPLATE_DIR = Path(__file__).with_name("templates")
NOTICES = MailTemplates(TEMPLATE_DIR, known=("sync_failed", "price_change_warning"))

programs = table("programs", column("id"), column("name"))


# Where a run's status is shown (`Links.invoice_run`, `Links.product_run`: PORTAL_URL, else
# PUBLIC_URL), the links every process builds from the same settings.
__all__ = ["NOTICES", "Links", "prices_changed", "run_failed"]


def _addresses(session: Session, partner_id: int, program_id: int) -> tuple[list[str], str]:
    emails = session.scalar(
        select(ProgramSyncSettings.notification_emails).where(
            ProgramSyncSettings.partner_id == partner_id,
            ProgramSyncSettings.program_id == program_id,
        )
    )
    name = session.scalar(select(programs.c.name).where(programs.c.id == program_id))
    return list(emails or []), str(name or f"program {program_id}")


def run_failed(
    session: Session,
    *,
    kind: str,
    run_id: int,
    partner_id: int,
    program_id: int,
    started_at: datetime,
    message: str | None,
    link: str,
    counts: Sequence[tuple[str, int]] = (),
    errors: Sequence[str] = (),
) -> int | None:
    """S8: mail the program's notification addresses that a run failed; None: no addresses
    (or already mailed)."""
    to, program_name = _addresses(session, partner_id, program_id)
    if not to:
        return None
    mail = NOTICES.compose(
        "sync_failed",
        to=to,
        idempotency_key=f"sync:{kind}-run:{run_id}:failed",
        sync_kind=kind,
        program_name=program_name,
        started_at=started_at,
        message=message or "",
        counts=list(counts),
        errors=list(dict.fromkeys(errors))[:10],
        link=link,
    )
    return enqueue_sync(session, mail)


def prices_changed(
    session: Session,
    *,
    run_id: int,
    partner_id: int,
    program_id: int,
    changes: Sequence[dict[str, Any]],
    link: str,
) -> int | None:
    """S8: the price-change warning of one product sync run (one mail per run)."""
    to, program_name = _addresses(session, partner_id, program_id)
    if not to or not changes:
        return None
    mail = NOTICES.compose(
        "price_change_warning",
        to=to,
        idempotency_key=f"sync:price-change:product-run:{run_id}",
        program_name=program_name,
        changes=list(changes),
        link=link,
    )
    return enqueue_sync(session, mail)
