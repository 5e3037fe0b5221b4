"""Beacon ledger: what each caller was told about whom, for the per-person disclosure budget.

Written by hand and frozen, like the migrations before it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "beacon_disclosures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=512), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("allele", sa.String(length=512), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_beacon_disclosures_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beacon_disclosures")),
        sa.UniqueConstraint(
            "actor", "subject_id", "allele", name=op.f("uq_beacon_disclosures_actor_subject_id_allele")
        ),
    )
    op.create_index(op.f("ix_beacon_disclosures_actor_allele"), "beacon_disclosures", ["actor", "allele"])


def downgrade() -> None:
    op.drop_index(op.f("ix_beacon_disclosures_actor_allele"), table_name="beacon_disclosures")
    op.drop_table("beacon_disclosures")
