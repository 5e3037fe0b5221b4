"""The node's settings, in one place, read from GENOMENODE_* variables and the CLI.

Built by the CLI callback or `create_app(settings)`, never at import time, so tests and several
nodes in one process each get their own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GENOMENODE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("genomenode-data"),
        description="Folder holding the store (Parquet), the default SQLite catalog and the node's secrets.",
    )
    catalog_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the catalog, e.g. postgresql://user@host/db; default SQLite in the data dir.",
    )
    secrets_dir: Path | None = Field(
        default=None,
        description="Folder for the node's keys (pseudonymisation); default <data-dir>/secrets, mode 0700.",
    )
    query_threads: int = Field(default=2, ge=1, description="DuckDB threads per query.")
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description="SQL engine over the Parquet store: duckdb (embedded, one machine) or spark (a cluster).",
    )
    spark_master: str = Field(
        default="local[2]",
        description="Where the spark engine runs: local[N], spark://host:7077, yarn or k8s://... (ADR 0009).",
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description='Extra Spark settings as JSON, e.g. {"spark.executor.memory": "8g"}.',
    )
    ingest_workers: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1),
        ge=1,
        description="Processes that build one large indexed (.tbi/.csi) VCF, each a stretch of positions.",
    )
    parallel_min_bytes: int = Field(
        default=32 << 20, ge=0, description="Files smaller than this are read by one process (start-up costs more)."
    )

    env: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start with missing or default keys, open CORS or audit logging off.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The node's own URL: the issuer (iss) of the tokens it signs and the base of its JWKS.",
    )
    token_audience: str = Field(
        default="genomenode", description="The audience (aud) every accepted bearer token must name."
    )
    token_lifetime_minutes: int = Field(
        default=60, ge=1, le=24 * 60, description="Lifetime of the tokens `genomenode token issue` signs."
    )
    trusted_issuers_file: Path | None = Field(
        default=None,
        description="JSON list of outside OIDC and visa issuers and their JWKS (docs/security.md); none by default.",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Browser origins allowed to call the API; '*' is refused in production."
    )
    audit_enabled: bool = Field(
        default=True, description="Write the hash-chained audit log; production refuses to start without it."
    )
    small_count_floor: int = Field(
        default=5, ge=1, description="Counts from 1 to this minus one are hidden from callers below CONTROLLED."
    )
    beacon_id: str = Field(
        default="org.genomenode.beacon",
        description="The Beacon v2 id (reverse domain name, e.g. se.gms.beacon) partners know this node by.",
    )
    beacon_budget: float = Field(
        default=1.0,
        ge=0,
        description="Nats of membership evidence each person may give away to one caller through Beacon "
        "answers below CONTROLLED (Raisaro et al. 2017); 0 turns the budget off.",
    )
    beacon_rate_limit: int = Field(
        default=1200,
        ge=0,
        description="Beacon requests a minute one caller (a token's subject, or an address) may make; 0 turns it off.",
    )
    beacon_name: str = Field(default="genomenode national beacon", description="The Beacon's human-readable name.")
    organisation_id: str = Field(default="genomenode", description="Id of the organisation running the node.")
    organisation_name: str = Field(
        default="genomenode national genome node", description="Name of the organisation running the node."
    )
    peers_file: Path | None = Field(
        default=None,
        description="JSON or TOML file naming the nodes this node federates with (name, base_url, public JWKS, "
        "reach); none by default: federated queries answer from this node alone.",
    )
    federation_timeout_seconds: float = Field(
        default=5.0, gt=0, le=120, description="How long one peer may take to answer before it is reported as timeout."
    )
    federation_deadline_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="The most one federated query waits for all its peers together; later ones count as timeout.",
    )

    @property
    def store_root(self) -> Path:
        return self.data_dir / "store"

    @property
    def secrets_root(self) -> Path:
        return self.secrets_dir or self.data_dir / "secrets"

    @property
    def pseudonym_key_path(self) -> Path:
        return self.secrets_root / "pseudonym.key"

    @property
    def signing_key_path(self) -> Path:
        """The node's private JWK (ES256) for the tokens it issues."""
        return self.secrets_root / "token-signing.jwk"

    @property
    def crypt4gh_key_paths(self) -> tuple[Path, Path]:
        """The node's Crypt4GH (secret, public) key pair for the encrypted archive."""
        return self.secrets_root / "archive.c4gh.sec", self.secrets_root / "archive.c4gh.pub"

    @property
    def archive_root(self) -> Path:
        return self.data_dir / "archive"

    @property
    def audit_log_path(self) -> Path:
        return self.data_dir / "audit" / "audit.jsonl"
