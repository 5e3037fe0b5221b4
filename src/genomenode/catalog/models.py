"""The catalog's tables as SQLAlchemy 2 typed models.

Design notes, so later changes keep the properties the store relies on:

* Constraint and index names come from one naming convention on the MetaData, so the hand-written
  Alembic migration and the models agree on SQLite and PostgreSQL alike.
* The ids of ingest runs, VCF files, samples and call groups are embedded in Parquet *before* the
  commit transaction, so they are never issued by the database on insert: the ingest, holding the
  store's write lock, takes max(id) + 1 and inserts them explicitly (a crashed run's ids are simply
  issued again, and nothing is written to the catalog before the commit).
* `store_files` is the store's table of contents: a Parquet part is visible exactly while it has a
  row here with `removed_run_id` NULL.
* Subjects are kept only as keyed pseudonyms; a raw subject identifier never reaches the catalog.
* Relationships are left out on purpose: callers work with ids and explicit queries, so nothing is
  lazy-loaded behind their back and the same code runs unchanged in short sessions.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ASSEMBLIES = ("GRCh37", "GRCh38")
STORE_TABLES = ("variants", "calls", "site_counts", "coverage", "variant_stats")
SECURITY_LEVELS = ("PUBLIC", "REGISTERED", "CONTROLLED")
ROLES = ("registered", "researcher", "clinician", "submitter", "steward", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zone type: it would keep the wall clock of whatever zone it was given and
    return naive values. Normalising to UTC on the way in (and refusing naive values, whose zone is
    a guess) and tagging UTC on the way out makes comparisons such as the garbage collector's grace
    period mean the same thing on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}; the catalog needs timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """A CHECK that keeps a status-like column to its vocabulary (named `ck_<table>_<column>`)."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Dataset(Base):
    __tablename__ = "datasets"
    __table_args__ = (_one_of("assembly", ASSEMBLIES), _one_of("security_level", SECURITY_LEVELS))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    assembly: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who may see what of it (issue 3): individual-level data only ever under CONTROLLED rules;
    # the level sets the most an anonymous or registered caller gets of its aggregates.
    security_level: Mapped[str] = mapped_column(String(16), default="CONTROLLED")
    # The dataset's own data-use conditions, DUO codes as `access.duo.parse_data_use` reads them.
    data_use: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings


class Centre(Base):
    """A submitting centre, in one healthcare region (a clinician sees their region's patients)."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    region: Mapped[str] = mapped_column(String(128), default="")


class Subject(Base):
    """A person, known only by the node's keyed HMAC of their identifier."""

    __tablename__ = "subjects"
    __table_args__ = (_one_of("status", ("active", "erased")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    sex: Mapped[str] = mapped_column(String(16))
    # 'erased': the person's genotypes are gone from the store; the row stays so an audit entry
    # and a later re-submission can be recognised, with nothing that identifies them beyond the HMAC.
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Age in years when their sample was taken (from the sample sheet); NULL when not given or erased.
    age_years: Mapped[float | None] = mapped_column(Float)


class PhenotypicFeature(Base):
    """An HPO term recorded for a subject; `excluded`: looked for and found absent (phenopackets)."""

    __tablename__ = "phenotypic_features"
    __table_args__ = (UniqueConstraint("subject_id", "term_id"), Index("ix_phenotypic_features_term_id", "term_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    term_id: Mapped[str] = mapped_column(String(32))  # HP:0001250, the current term (alt ids resolved)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SubjectDisease(Base):
    """A diagnosis recorded for a subject: an OMIM, ORPHA or MONDO id."""

    __tablename__ = "subject_diseases"
    __table_args__ = (UniqueConstraint("subject_id", "term_id"), Index("ix_subject_diseases_term_id", "term_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    term_id: Mapped[str] = mapped_column(String(32))


class IngestRun(Base):
    __tablename__ = "ingest_runs"
    __table_args__ = (_one_of("status", ("committed", "failed")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    n_files: Mapped[int] = mapped_column(Integer, default=0)
    n_samples: Mapped[int] = mapped_column(Integer, default=0)
    n_variants: Mapped[int] = mapped_column(BigInteger, default=0)
    report: Mapped[str] = mapped_column(Text, default="{}")  # a JSON document, kept as text
    command: Mapped[str] = mapped_column(Text, default="")


class VcfFile(Base):
    __tablename__ = "vcf_files"
    __table_args__ = (
        UniqueConstraint("dataset_id", "sha256"),
        _one_of("kind", ("vcf", "gvcf", "bcf")),
        _one_of("status", ("active", "replaced")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))
    n_records: Mapped[int] = mapped_column(BigInteger, default=0)
    n_samples: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The run whose --replace superseded this file (an audit trail, like StoreFile.removed_run_id).
    replaced_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Sample(Base):
    """One VCF column; `id` is the sample's dictionary code in the Parquet store."""

    __tablename__ = "samples"
    __table_args__ = (
        # A sample id names at most one active sample per dataset; replaced/erased rows stay as history.
        Index(
            "uq_samples_dataset_id_sample_id_active",
            "dataset_id",
            "sample_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_samples_file_id", "file_id"),
        Index("ix_samples_subject_id", "subject_id"),
        _one_of("status", ("active", "replaced", "erased")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    sample_id: Mapped[str] = mapped_column(String(128))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("vcf_files.id"))
    sex: Mapped[str] = mapped_column(String(16))
    population: Mapped[str] = mapped_column(String(64))
    consent: Mapped[str] = mapped_column(String(256), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CallGroup(Base):
    """The samples of one file sharing a stratum; `id` is the group's code in the Parquet store."""

    __tablename__ = "call_groups"
    __table_args__ = (Index("ix_call_groups_file_id", "file_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    file_id: Mapped[int] = mapped_column(ForeignKey("vcf_files.id"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    population: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str] = mapped_column(String(16))
    centre: Mapped[str] = mapped_column(String(128))
    n_samples: Mapped[int] = mapped_column(Integer)
    # How the group's counts enter the statistics: 1 normally; 0 for a one-person group whose
    # person withdrew; -1 for an exclusion group, which holds one withdrawn person's own share of
    # a larger group's counts (same stratum), so the sum leaves them out exactly.
    weight: Mapped[int] = mapped_column(Integer, default=1)
    excludes_sample_id: Mapped[int | None] = mapped_column(Integer)


class StoreFile(Base):
    """One Parquet part; live while `removed_run_id` is NULL. `path` is relative to the store root."""

    __tablename__ = "store_files"
    __table_args__ = (
        Index(
            "ix_store_files_table_name_assembly_chrom_removed_run_id",
            "table_name",
            "assembly",
            "chrom",
            "removed_run_id",
        ),
        _one_of("table_name", STORE_TABLES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(512), unique=True)
    table_name: Mapped[str] = mapped_column(String(32))
    assembly: Mapped[str] = mapped_column(String(16))
    chrom: Mapped[str] = mapped_column(String(8))
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"))
    removed_run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"))
    n_rows: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    min_pos: Mapped[int | None] = mapped_column(Integer)
    max_pos: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    """A person the node knows by (issuer, subject), with the roles and bindings policy reads.

    Tokens only say who the caller is; what they may do is read here at request time, so a
    revocation takes effect at once rather than when a token expires.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    roles: Mapped[str] = mapped_column(String(255), default="")  # comma-separated, from ROLES
    region: Mapped[str | None] = mapped_column(String(128))  # clinicians
    centre: Mapped[str | None] = mapped_column(String(128))  # submitters
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Project(Base):
    """An approved research project; its purpose is matched against every sample's consent."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    purpose: Mapped[str] = mapped_column(Text, default="{}")  # JSON: access.duo.ResearchPurpose fields
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProjectMember(Base):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Grant(Base):
    """A data access committee's decision: a project may use a dataset, until revoked or expired."""

    __tablename__ = "grants"
    __table_args__ = (Index("ix_grants_project_id_dataset_id", "project_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


ACCESS_REQUEST_STATUSES = ("pending", "granted", "refused", "withdrawn", "revoked")


class AccessRequest(Base):
    """A researcher's request that their project may use a dataset, and the steward's decision.

    The grant itself is a `Grant` row made by the same act that marks the request granted
    (access.access_requests); the request keeps why it was asked and who decided, and when.
    """

    __tablename__ = "access_requests"
    __table_args__ = (
        Index("ix_access_requests_status", "status"),
        Index("ix_access_requests_project_id_dataset_id", "project_id", "dataset_id"),
        _one_of("status", ACCESS_REQUEST_STATUSES),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    requester: Mapped[str] = mapped_column(String(512))  # the caller's actor: issuer|subject
    justification: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(512))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")


class Consent(Base):
    """One recorded consent of a subject; the newest row is in force, older rows are history."""

    __tablename__ = "consents"
    __table_args__ = (
        Index("ix_consents_subject_id", "subject_id"),
        _one_of("status", ("given", "withdrawn")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    codes: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of DUO codes
    status: Mapped[str] = mapped_column(String(16))
    signed_on: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(255), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(255), default="")


class ArchivedFile(Base):
    """A submitted file as kept, Crypt4GH-encrypted under the node's key (path relative to the archive)."""

    __tablename__ = "archived_files"

    file_id: Mapped[int] = mapped_column(ForeignKey("vcf_files.id"), primary_key=True, autoincrement=False)
    path: Mapped[str] = mapped_column(String(512), unique=True)
    plaintext_sha256: Mapped[str] = mapped_column(String(64))
    encrypted_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PolicyState(Base):
    """One row: a counter bumped by every grant, revocation, consent or user change.

    Cached authorisation decisions are keyed by it, so a change is seen by the next request.
    """

    __tablename__ = "policy_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class BeaconDisclosure(Base):
    """One rare allele a Beacon caller was told a person carries, and what it cost their budget.

    The ledger of beacon.budget: a caller's spending per person is the sum of their rows, and a
    disclosure already made is free again. Erasure deletes the person's rows.
    """

    __tablename__ = "beacon_disclosures"
    __table_args__ = (
        UniqueConstraint("actor", "subject_id", "allele"),  # also serves "spent per person" lookups
        Index("ix_beacon_disclosures_actor_allele", "actor", "allele"),  # "shown before?" lookups
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(512))  # issuer|subject, or "anonymous" for the public
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    allele: Mapped[str] = mapped_column(String(512))  # <dataset>:<chrom>-<pos>-<ref>-<alt>
    cost: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Case(Base):
    """A rare-disease case: a family of samples of one dataset, the proband's HPO terms, an
    optional gene panel, and the latest analysis (issue 5).

    `region` is the proband's (their sample's centre's region): what a clinician's access to the
    case is read from, with every member's own individual-level access checked as well. `members`
    is a JSON list of {"id", "sample", "father", "mother", "sex", "affection"}, where `id` is the
    sample's name in the dataset (the VCF column) and `sample` its catalog id (the store's code),
    or null once the person was erased (their analysis is dropped with them).
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_dataset_id", "dataset_id"), Index("ix_cases_region", "region"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    region: Mapped[str] = mapped_column(String(128))
    members: Mapped[str] = mapped_column(Text)  # JSON list, see the docstring
    proband: Mapped[str] = mapped_column(String(128))
    hpo: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of current HPO ids
    panel: Mapped[str | None] = mapped_column(Text)  # JSON: {"format", "name", "source", "content"}
    panel_level: Mapped[str] = mapped_column(String(16), default="green")
    created_by: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    result: Mapped[str | None] = mapped_column(Text)  # JSON: CaseResult.as_dict() of the latest analysis
    settings: Mapped[str | None] = mapped_column(Text)  # JSON: what the latest analysis was asked with
    analysed_by: Mapped[str | None] = mapped_column(String(512))
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


NOTE_CLASSIFICATIONS = ("pathogenic", "likely_pathogenic", "uncertain_significance", "likely_benign", "benign")


class CaseNote(Base):
    """A clinician's note on one candidate variant of a case, with an optional ACMG/AMP class.

    Append-only: a changed opinion is a new note, so who said what and when stays on record, and
    the newest classified note of a variant is its current class. `variant` is chrom-pos-ref-alt;
    a note holds no genotypes and is kept when a member is erased (catalog.case_notes).
    """

    __tablename__ = "case_notes"
    __table_args__ = (
        Index("ix_case_notes_case_id_variant", "case_id", "variant"),
        _one_of("classification", NOTE_CLASSIFICATIONS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    variant: Mapped[str] = mapped_column(String(512))  # chrom-pos-ref-alt, one of the analysis' candidates
    gene: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(512))  # the caller's actor: issuer|subject
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    text: Mapped[str] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(String(32))
