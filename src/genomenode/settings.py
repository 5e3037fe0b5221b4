"""The node's settings, in one place, read from GENOMENODE_* variables and the CLI.

Built by the CLI callback or `create_app(settings)`, never at import time, so tests and several
nodes in one process each get their own.
"""

from __future__ import annotations

import os
from pathlib import Path

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
    ingest_workers: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1),
        ge=1,
        description="Processes that build one large indexed (.tbi/.csi) VCF, each a stretch of positions.",
    )
    parallel_min_bytes: int = Field(
        default=32 << 20, ge=0, description="Files smaller than this are read by one process (start-up costs more)."
    )

    @property
    def store_root(self) -> Path:
        return self.data_dir / "store"

    @property
    def pseudonym_key_path(self) -> Path:
        return (self.secrets_dir or self.data_dir / "secrets") / "pseudonym.key"
