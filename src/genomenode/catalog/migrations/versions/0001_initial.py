"""The initial catalog: datasets, samples, files, call groups, and the store's file list.

Written by hand and frozen: it must not import the models, which will move on. Constraint names
follow the naming convention in models.py, so later migrations can address them on both backends.
Time columns are DateTime(timezone=True); the models' UTCDateTime keeps them UTC on SQLite too.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def _check(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=op.f(f"ck_{table}_{column}"))


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("assembly", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("name", name=op.f("uq_datasets_name")),
        _check("datasets", "assembly", ("GRCh37", "GRCh38")),
    )
    op.create_table(
        "centres",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centres")),
        sa.UniqueConstraint("name", name=op.f("uq_centres_name")),
    )
    op.create_table(
        "subjects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("sex", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subjects")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_subjects_pseudonym")),
    )
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("n_files", sa.Integer(), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("n_variants", sa.BigInteger(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_runs")),
        _check("ingest_runs", "status", ("committed", "failed")),
    )
    op.create_table(
        "vcf_files",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("n_records", sa.BigInteger(), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("replaced_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vcf_files")),
        _fk("vcf_files", "dataset_id", "datasets"),
        _fk("vcf_files", "centre_id", "centres"),
        _fk("vcf_files", "run_id", "ingest_runs"),
        _fk("vcf_files", "replaced_run_id", "ingest_runs"),
        sa.UniqueConstraint("dataset_id", "sha256", name=op.f("uq_vcf_files_dataset_id_sha256")),
        _check("vcf_files", "kind", ("vcf", "gvcf", "bcf")),
        _check("vcf_files", "status", ("active", "replaced")),
    )
    op.create_table(
        "samples",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.String(128), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("sex", sa.String(16), nullable=False),
        sa.Column("population", sa.String(64), nullable=False),
        sa.Column("consent", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_samples")),
        _fk("samples", "dataset_id", "datasets"),
        _fk("samples", "subject_id", "subjects"),
        _fk("samples", "centre_id", "centres"),
        _fk("samples", "file_id", "vcf_files"),
        _check("samples", "status", ("active", "replaced", "erased")),
    )
    op.create_index(
        op.f("uq_samples_dataset_id_sample_id_active"),
        "samples",
        ["dataset_id", "sample_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(op.f("ix_samples_file_id"), "samples", ["file_id"])
    op.create_index(op.f("ix_samples_subject_id"), "samples", ["subject_id"])
    op.create_table(
        "call_groups",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("population", sa.String(64), nullable=False),
        sa.Column("sex", sa.String(16), nullable=False),
        sa.Column("centre", sa.String(128), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_groups")),
        _fk("call_groups", "file_id", "vcf_files"),
        _fk("call_groups", "dataset_id", "datasets"),
    )
    op.create_index(op.f("ix_call_groups_file_id"), "call_groups", ["file_id"])
    op.create_table(
        "store_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("table_name", sa.String(32), nullable=False),
        sa.Column("assembly", sa.String(16), nullable=False),
        sa.Column("chrom", sa.String(8), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("removed_run_id", sa.Integer(), nullable=True),
        sa.Column("n_rows", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("min_pos", sa.Integer(), nullable=True),
        sa.Column("max_pos", sa.Integer(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_files")),
        sa.UniqueConstraint("path", name=op.f("uq_store_files_path")),
        _fk("store_files", "dataset_id", "datasets"),
        _fk("store_files", "run_id", "ingest_runs"),
        _fk("store_files", "removed_run_id", "ingest_runs"),
        _check("store_files", "table_name", ("variants", "calls", "site_counts", "coverage", "variant_stats")),
    )
    op.create_index(
        op.f("ix_store_files_table_name_assembly_chrom_removed_run_id"),
        "store_files",
        ["table_name", "assembly", "chrom", "removed_run_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_store_files_table_name_assembly_chrom_removed_run_id"), table_name="store_files")
    op.drop_table("store_files")
    op.drop_index(op.f("ix_call_groups_file_id"), table_name="call_groups")
    op.drop_table("call_groups")
    op.drop_index(op.f("ix_samples_subject_id"), table_name="samples")
    op.drop_index(op.f("ix_samples_file_id"), table_name="samples")
    op.drop_index(op.f("uq_samples_dataset_id_sample_id_active"), table_name="samples")
    op.drop_table("samples")
    op.drop_table("vcf_files")
    op.drop_table("ingest_runs")
    op.drop_table("subjects")
    op.drop_table("centres")
    op.drop_table("datasets")
