"""The billing lock (P3, N1): billing a partner's month and changing what that month bills
never interleave.

A billing run reads a partner's subscriptions, quantity history, usage and charges and
writes the invoice; a change (a quantity change, a new or cancelled subscription, a usage
record, a fee or adjustment) first checks that its day is not invoiced yet. Without a common
lock the two could each miss the other: the change commits after the run read, before the
invoice is written, and is then never billed. Both take the partner's organisation row lock
first (`FOR UPDATE` on PostgreSQL; SQLite's write transactions are exclusive already), and
the run reads what it bills only once it holds the lock.

The lock is `FOR NO KEY UPDATE`, as are the row locks the writers take before it (a
subscription, an order's customer): they exclude each other but not the `KEY SHARE` locks
PostgreSQL's foreign key checks take. Were they `FOR UPDATE`, a run inserting invoice lines
(which checks its subscriptions' keys) while holding the partner's lock, and a change holding
its subscription while waiting for that lock, would deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prism_tables.organisations import Organisation


async def lock_billing(session: AsyncSession, partner_ids: Iterable[int]) -> None:
    """Hold the billing lock of these partners until the session's transaction ends."""
    ids = sorted(set(partner_ids))
    if ids:
        await session.execute(
            select(Organisation.id)
            .where(Organisation.id.in_(ids))
            .order_by(Organisation.id)
            .with_for_update(key_share=True)
        )
