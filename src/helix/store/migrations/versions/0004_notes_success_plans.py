"""Customer 360: notes on accounts and success plans (goals, milestones).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    """VARCHAR(16) + CHECK, as ``helix.store.models._enum`` declares it."""
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    """Create the notes and success-plan tables."""
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("body", sa.String(10000), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
    )
    op.create_index("ix_notes_account_created", "notes", ["account_id", "created_at"])
    op.create_table(
        "success_plans",
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("objective", sa.String(2000), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_success_plans"),
    )
    op.create_table(
        "success_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            _enum("goal_status", "planned", "in_progress", "achieved", "missed", "dropped"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["success_plans.account_id"],
            name="fk_success_goals_account_id_success_plans",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_success_goals"),
    )
    op.create_index("ix_success_goals_account", "success_goals", ["account_id", "position"])
    op.create_table(
        "success_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", _enum("milestone_status", "open", "done", "dropped"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("completed_by", sa.String(320), nullable=True),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["success_goals.id"],
            name="fk_success_milestones_goal_id_success_goals",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_success_milestones"),
    )
    op.create_index("ix_success_milestones_goal_id", "success_milestones", ["goal_id"])


def downgrade() -> None:
    """Drop the notes and success-plan tables."""
    op.drop_index("ix_success_milestones_goal_id", table_name="success_milestones")
    op.drop_table("success_milestones")
    op.drop_index("ix_success_goals_account", table_name="success_goals")
    op.drop_table("success_goals")
    op.drop_table("success_plans")
    op.drop_index("ix_notes_account_created", table_name="notes")
    op.drop_table("notes")
