"""organisations have a time zone (issue 12, "whose today")

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:00:00

Nullable: a partner without a zone follows the distributor's, a distributor without one
works in UTC, so existing rows keep today's behaviour.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("time_zone")
