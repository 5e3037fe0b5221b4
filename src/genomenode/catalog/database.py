"""Connecting to the catalog and keeping its schema current.

SQLite (a file in the data dir) serves a single machine; PostgreSQL serves production. Both get
the same behaviour where the store depends on it:

* transactions are real, DDL included: on SQLite SQLAlchemy emits BEGIN itself (the sqlite3
  driver's legacy mode would otherwise autocommit DDL and leave SELECTs outside transactions);
* foreign keys are enforced (SQLite only does so when asked, per connection);
* WAL journal mode and a busy timeout let the query service read while an ingest commits;
* `open_catalog` migrates to the newest schema, serialised between processes that start at once
  (BEGIN IMMEDIATE on SQLite, a transaction-scoped advisory lock on PostgreSQL).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from genomenode.errors import ConfigurationError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_FILENAME = "catalog.sqlite"
BUSY_TIMEOUT_MS = 30_000
# Execution option read by the SQLite "begin" hook: "IMMEDIATE" takes the write lock up front.
SQLITE_BEGIN_OPTION = "genomenode_sqlite_begin"
# Key of the PostgreSQL advisory lock that serialises migrations ("gnod" in ASCII).
_PG_MIGRATION_LOCK = 0x676E6F64


def catalog_url(data_dir: Path, env_url: str | None) -> str:
    """The catalog's SQLAlchemy URL: GENOMENODE_CATALOG_URL if set, else `<data_dir>/catalog.sqlite`.

    `postgresql://` (and `postgres://`) URLs get the psycopg 3 driver, the one genomenode ships,
    so operators can paste the URL their PostgreSQL tooling uses. A blank value counts as unset.
    """
    if env_url is None or not env_url.strip():
        path = Path(data_dir).absolute() / SQLITE_FILENAME
        return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)
    try:
        url = make_url(env_url.strip())
    except ArgumentError as exc:  # the message would echo the URL, password included
        raise ConfigurationError(
            "GENOMENODE_CATALOG_URL is not a database URL; use e.g. postgresql://user@host/db "
            "or sqlite:////path/catalog.sqlite"
        ) from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"GENOMENODE_CATALOG_URL uses {url.drivername!r}; the catalog supports PostgreSQL and SQLite"
        )
    return url.render_as_string(hide_password=False)


def create_catalog_engine(url: str, *, connect_args: Mapping[str, Any] | None = None) -> Engine:
    """An engine with the per-connection settings above, without touching the schema."""
    parsed = make_url(url)
    args = dict(connect_args or {})
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, connect_args=args)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, **args})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below), so DDL is transactional
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        _enable_wal(cursor)
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch a new database file to WAL (persistent), retrying while another opener does the same.

    The switch needs an exclusive lock and SQLite fails it at once, busy timeout or not, when two
    processes open a brand-new catalog together; once one has switched, the others only read the mode.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
        raise ValueError(f"{SQLITE_BEGIN_OPTION}={mode!r}: expected DEFERRED, IMMEDIATE or EXCLUSIVE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def alembic_config(*, connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration built in code, so the installed package can migrate itself.

    Pass an open `connection` (migrations then run inside its transaction) or a `url`.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser interpolation
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the catalog to `revision`; a no-op (and lock-free) when it is there already."""
    if revision == "head" and _at_head(engine):
        return
    from alembic import command
    from alembic.util.exc import CommandError

    with engine.connect() as connection:
        connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            try:
                command.upgrade(alembic_config(connection=connection), revision)
            except CommandError as exc:
                raise ConfigurationError(
                    f"cannot migrate the catalog to {revision}: {exc}; is it from a newer genomenode?"
                ) from exc


# The newest migration. Checked with one SELECT so that readers (every CLI query, every API start)
# do not import Alembic; tests/catalog holds it equal to the migration scripts' head.
HEAD_REVISION = "0007"


def _at_head(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            current = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
            connection.rollback()
    except Exception:  # no alembic_version table yet: a new catalog
        return False
    return current == {HEAD_REVISION}


def open_catalog(url: str, *, connect_args: Mapping[str, Any] | None = None) -> Engine:
    """An engine on a catalog migrated to the newest schema. The caller disposes of it."""
    engine = create_catalog_engine(url, connect_args=connect_args)
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit, as the CLI and API print them after."""
    return sessionmaker(bind=engine, expire_on_commit=False)
