"""The catalog under test, on SQLite and (when reachable) PostgreSQL, each test in a clean database."""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from genomenode.catalog.database import open_catalog

PG_HOST, PG_PORT, PG_DB = "127.0.0.1", 5432, "test"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """A URL that reaches the test PostgreSQL server: as `postgres`, else as the OS user (trust auth)."""
    errors = []
    for user in dict.fromkeys(("postgres", getpass.getuser())):
        url = f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{PG_DB}"
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.Error as exc:
            errors.append(f"{user}: {str(exc).strip()}")
    reason = f"PostgreSQL at {PG_HOST}:{PG_PORT}/{PG_DB} unreachable ({'; '.join(errors)})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it")
    pytest.skip(f"{reason}; start it to run the postgres tests")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty catalog database: a SQLite file, or a fresh PostgreSQL schema.

    On PostgreSQL the schema goes in the URL (`options=-csearch_path=...`, which psycopg passes
    to libpq), so every engine the code under test creates from the URL lands in it.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.sqlite'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    schema = f"gn_test_{uuid.uuid4().hex}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(admin).set(drivername="postgresql+psycopg", query={"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def engine(catalog_url: str) -> Iterator[Engine]:
    """A migrated catalog; disposed before the database is dropped."""
    engine = open_catalog(catalog_url)
    try:
        yield engine
    finally:
        engine.dispose()
