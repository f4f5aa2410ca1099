"""replaced links say so; programs can be retired (issue 14)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 12:00:00

A contact's verification or sign-in link and a user's invitation that a newer one replaced
were marked used, and opening them said "used already": `replaced_at` records the
replacement. Links replaced before this migration cannot be told apart and keep their
answer. `programs.retired_at` takes a program off the catalogue for new business.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("customer_contact_links", "replaced_at"),
    ("user_invitations", "replaced_at"),
    ("programs", "retired_at"),
)


def upgrade() -> None:
    for table, column in _COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
