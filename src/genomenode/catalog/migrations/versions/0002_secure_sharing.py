"""Secure sharing: dataset security levels and DUO conditions, centre regions, users, projects,
grants, consents, the encrypted archive's file list and the policy version.

Written by hand and frozen, like 0001. New columns on existing tables carry server defaults so a
catalog with data upgrades in place: every existing dataset becomes CONTROLLED (nothing is more
open than before), every centre its own region until a steward says otherwise.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.{key}"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("security_level", sa.String(16), nullable=False, server_default="CONTROLLED"))
        batch.add_column(sa.Column("data_use", sa.Text(), nullable=False, server_default="[]"))
        batch.create_check_constraint("security_level", "security_level IN ('PUBLIC', 'REGISTERED', 'CONTROLLED')")
    with op.batch_alter_table("centres") as batch:
        batch.add_column(sa.Column("region", sa.String(128), nullable=False, server_default=""))
    op.execute("UPDATE centres SET region = name WHERE region = ''")
    with op.batch_alter_table("call_groups") as batch:
        batch.add_column(sa.Column("weight", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("excludes_sample_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("subjects") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="active"))
        batch.create_check_constraint("status", "status IN ('active', 'erased')")

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("roles", sa.String(255), nullable=False),
        sa.Column("region", sa.String(128), nullable=True),
        sa.Column("centre", sa.String(128), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_users_issuer_subject")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )
    op.create_table(
        "project_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_members")),
        sa.UniqueConstraint("project_id", "user_id", name=op.f("uq_project_members_project_id_user_id")),
        _fk("project_members", "project_id", "projects"),
        _fk("project_members", "user_id", "users"),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("granted_by", sa.String(255), nullable=False),
        sa.Column("granted_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("revoked_by", sa.String(255), nullable=True),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
        _fk("grants", "project_id", "projects"),
        _fk("grants", "dataset_id", "datasets"),
    )
    op.create_index(op.f("ix_grants_project_id_dataset_id"), "grants", ["project_id", "dataset_id"])
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("codes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("signed_on", _TIME, nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("recorded_at", _TIME, nullable=False),
        sa.Column("recorded_by", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        _fk("consents", "subject_id", "subjects"),
        sa.CheckConstraint("status IN ('given', 'withdrawn')", name=op.f("ck_consents_status")),
    )
    op.create_index(op.f("ix_consents_subject_id"), "consents", ["subject_id"])
    op.create_table(
        "archived_files",
        sa.Column("file_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("plaintext_sha256", sa.String(64), nullable=False),
        sa.Column("encrypted_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_archived_files")),
        sa.UniqueConstraint("path", name=op.f("uq_archived_files_path")),
        _fk("archived_files", "file_id", "vcf_files"),
    )
    op.create_table(
        "policy_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_state")),
    )
    op.execute("INSERT INTO policy_state (id, version) VALUES (1, 0)")


def downgrade() -> None:
    for table in ("policy_state", "archived_files", "consents", "grants", "project_members", "projects", "users"):
        op.drop_table(table)
    with op.batch_alter_table("subjects") as batch:
        batch.drop_constraint(op.f("ck_subjects_status"), type_="check")
        batch.drop_column("status")
    with op.batch_alter_table("centres") as batch:
        batch.drop_column("region")
    with op.batch_alter_table("call_groups") as batch:
        batch.drop_column("excludes_sample_id")
        batch.drop_column("weight")
    with op.batch_alter_table("datasets") as batch:
        batch.drop_constraint(op.f("ck_datasets_security_level"), type_="check")
        batch.drop_column("data_use")
        batch.drop_column("security_level")
