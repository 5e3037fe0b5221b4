"""Phenotypes: HPO features (present or excluded) and diagnoses per subject, and age at collection.

Written by hand and frozen, like 0001 and 0002. Existing subjects get no features and a NULL age:
nothing was known of them before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subjects") as batch:
        batch.add_column(sa.Column("age_years", sa.Float(), nullable=True))
    op.create_table(
        "phenotypic_features",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.String(32), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phenotypic_features")),
        sa.UniqueConstraint("subject_id", "term_id", name=op.f("uq_phenotypic_features_subject_id_term_id")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_phenotypic_features_subject_id_subjects")
        ),
    )
    op.create_index(op.f("ix_phenotypic_features_term_id"), "phenotypic_features", ["term_id"])
    op.create_table(
        "subject_diseases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_diseases")),
        sa.UniqueConstraint("subject_id", "term_id", name=op.f("uq_subject_diseases_subject_id_term_id")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_subject_diseases_subject_id_subjects")),
    )
    op.create_index(op.f("ix_subject_diseases_term_id"), "subject_diseases", ["term_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_subject_diseases_term_id"), table_name="subject_diseases")
    op.drop_table("subject_diseases")
    op.drop_index(op.f("ix_phenotypic_features_term_id"), table_name="phenotypic_features")
    op.drop_table("phenotypic_features")
    with op.batch_alter_table("subjects") as batch:
        batch.drop_column("age_years")
