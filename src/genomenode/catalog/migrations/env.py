"""Alembic environment for the catalog.

Normally driven from `genomenode.catalog.database.upgrade`, which passes an open connection in
`config.attributes["connection"]` so the migration runs inside the caller's (locked) transaction.
Without one (e.g. `alembic -c src/genomenode/catalog/alembic.ini ...` while developing) it connects
to `sqlalchemy.url`, or to the catalog named by GENOMENODE_CATALOG_URL.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import context
from sqlalchemy import Connection

from genomenode.catalog.database import catalog_url, create_catalog_engine
from genomenode.catalog.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("GENOMENODE_CATALOG_URL")
    if not url:
        raise RuntimeError("set sqlalchemy.url or GENOMENODE_CATALOG_URL to say which catalog to migrate")
    return catalog_url(Path.cwd(), url)  # postgresql:// gets the psycopg driver, as in the node


def _configure(connection: Connection) -> None:
    # Batch mode lets later migrations ALTER tables on SQLite (by copy-and-move); PostgreSQL ignores it.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_catalog_engine(_url())
    try:
        with engine.connect() as own:
            _configure(own)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
