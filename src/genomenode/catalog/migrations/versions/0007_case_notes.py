"""Case notes: clinicians' append-only notes and ACMG/AMP classifications on a case's candidates.

Written by hand and frozen, like the migrations before it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLASSIFICATIONS = ("pathogenic", "likely_pathogenic", "uncertain_significance", "likely_benign", "benign")


def upgrade() -> None:
    allowed = ", ".join(f"'{c}'" for c in CLASSIFICATIONS)
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=512), nullable=False),
        sa.Column("gene", sa.String(length=64), nullable=True),
        sa.Column("author", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(length=32), nullable=True),
        sa.CheckConstraint(f"classification IN ({allowed})", name=op.f("ck_case_notes_classification")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_notes_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    op.create_index(op.f("ix_case_notes_case_id_variant"), "case_notes", ["case_id", "variant"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_notes_case_id_variant"), table_name="case_notes")
    op.drop_table("case_notes")
