"""Executive layer: scorecards over time (assessments), roadmap checkpoints and marks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``assessments``, ``roadmap_checkpoints`` and ``roadmap_marks``."""
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("taken_by", sa.String(320), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=True),
        sa.Column("average", sa.Float(), nullable=False),
        sa.Column("priority", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_assessments"),
    )
    op.create_index("ix_assessments_kind_taken", "assessments", ["kind", "taken_at"])
    op.create_table(
        "roadmap_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("taken_by", sa.String(320), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=True),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("gates", sa.JSON(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name="fk_roadmap_checkpoints_assessment_id_assessments",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_roadmap_checkpoints"),
    )
    op.create_index("ix_roadmap_checkpoints_taken_at", "roadmap_checkpoints", ["taken_at"])
    op.create_table(
        "roadmap_marks",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_roadmap_marks"),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("roadmap_marks")
    op.drop_index("ix_roadmap_checkpoints_taken_at", table_name="roadmap_checkpoints")
    op.drop_table("roadmap_checkpoints")
    op.drop_index("ix_assessments_kind_taken", table_name="assessments")
    op.drop_table("assessments")
