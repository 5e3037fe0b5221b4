"""Rare-disease cases: a family of samples, HPO terms, a panel, and the latest analysis.

Written by hand and frozen, like the migrations before it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
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
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=128), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("proband", sa.String(length=128), nullable=False),
        sa.Column("hpo", sa.Text(), nullable=False),
        sa.Column("panel", sa.Text(), nullable=True),
        sa.Column("panel_level", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("settings", sa.Text(), nullable=True),
        sa.Column("analysed_by", sa.String(length=512), nullable=True),
        sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name=op.f("fk_cases_dataset_id_datasets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("name", name=op.f("uq_cases_name")),
    )
    op.create_index(op.f("ix_cases_dataset_id"), "cases", ["dataset_id"])
    op.create_index(op.f("ix_cases_region"), "cases", ["region"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_region"), table_name="cases")
    op.drop_index(op.f("ix_cases_dataset_id"), table_name="cases")
    op.drop_table("cases")
