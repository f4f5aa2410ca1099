"""ConnectWise connections and the PSA each program syncs to (issue 17, S13)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-14 09:00:00

A partner's connection row now serves ConnectWise too (its API host in `site`); each
program's sync settings name the PSA it syncs to, Autotask for every existing row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_psa_connections") as batch:
        batch.add_column(sa.Column("site", sa.String(length=200), nullable=True))
    with op.batch_alter_table("sync_program_settings") as batch:
        batch.add_column(
            sa.Column(
                "psa", sa.String(length=20), nullable=False, server_default="AUTOTASK"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_program_settings") as batch:
        batch.drop_column("psa")
    with op.batch_alter_table("sync_psa_connections") as batch:
        batch.drop_column("site")
