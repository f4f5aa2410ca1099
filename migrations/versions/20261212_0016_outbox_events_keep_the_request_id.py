"""an outbox event keeps the id of the request that caused it (issue 15)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-12 09:00:00

A mutation's log records carry its request id; `outbox_events.request_id` keeps it with the
events the mutation recorded, so that the relay can put it on the message and the worker's
records of handling the event carry the same id (docs/operations.md, Logs). Events staged
outside a request (periodic events, commands) and those written before this migration have
none.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events") as batch:
        batch.add_column(sa.Column("request_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_column("request_id")
