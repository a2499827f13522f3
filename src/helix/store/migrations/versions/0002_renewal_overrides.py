"""Renewal forecast overrides: a person's bucket for one renewal, with the reason.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``renewal_overrides``."""
    op.create_table(
        "renewal_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("bucket", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_renewal_overrides"),
    )
    op.create_index(
        "ix_renewal_overrides_account", "renewal_overrides", ["account_id", "renewal_date"]
    )
    op.create_index("ix_renewal_overrides_created_at", "renewal_overrides", ["created_at"])


def downgrade() -> None:
    """Drop ``renewal_overrides``."""
    op.drop_index("ix_renewal_overrides_created_at", table_name="renewal_overrides")
    op.drop_index("ix_renewal_overrides_account", table_name="renewal_overrides")
    op.drop_table("renewal_overrides")
