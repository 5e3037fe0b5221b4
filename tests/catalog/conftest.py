"""The catalog under test, on SQLite and (when reachable) PostgreSQL, each test in a clean database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from genomenode.catalog.database import open_catalog


@pytest.fixture
def engine(catalog_url: str) -> Iterator[Engine]:
    """A migrated catalog; disposed before the database is dropped."""
    engine = open_catalog(catalog_url)
    try:
        yield engine
    finally:
        engine.dispose()
