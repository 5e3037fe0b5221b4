"""The SQL engine that reads the Parquet store: DuckDB on one machine, Spark on a cluster.

Every read of the store that is more than a footer goes through a `StoreEngine`: the queries the
API, Beacon, the portal and interpretation ask (query/*), and the statistics computation
(store.stats). Both engines read the same immutable parts unchanged; which one runs is a setting
(`GENOMENODE_ENGINE=duckdb|spark`), so a nation that outgrows one machine changes a variable,
not its data or its code.

Queries are written once, in the SQL both engines accept:
* relations are named in braces, `FROM {calls}`, and given as `Parts` (live parts of one store
  table; none at all is an empty relation of that table's columns) or as Arrow tables (the small
  lists a query joins against: samples, sites, contig order);
* scalar parameters are `$name` (DuckDB's form; Spark's `:name` is written for it);
* casts are `CAST(x AS STRING|INTEGER|...)`, keywords used as names are double-quoted ("end"),
  ORDER BY says NULLS FIRST/LAST (the engines' defaults differ), anti-joins are NOT EXISTS;
* the one aggregate the two spell differently (a sorted string join) comes from
  `StoreEngine.sorted_join`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeAlias
from urllib.parse import unquote, urlparse

import duckdb
import pyarrow as pa

from genomenode.store.reader import rows_at
from genomenode.store.schema import arrow_schema


@dataclass(frozen=True)
class Parts:
    """Live parts of one store table, read as one relation.

    `filename`: add a `filename` column, the local path of the part each row came from (a
    `variants` part's footer holds its file's annotation headers)."""

    table: str
    paths: tuple[Path, ...] = field(default_factory=tuple)
    filename: bool = False

    @classmethod
    def of(cls, table: str, paths: Sequence[Path], *, filename: bool = False) -> Parts:
        return cls(table, tuple(paths), filename)

    def empty(self) -> pa.Table:
        """No parts: a relation with the table's columns (plain types) and no rows."""
        table = plain_types(arrow_schema(self.table).empty_table())
        return table.append_column("filename", pa.array([], pa.string())) if self.filename else table


Relation: TypeAlias = Parts | pa.Table


class StoreEngine(Protocol):
    """What the store's readers need from an SQL engine. Implementations are thread-safe."""

    name: str

    def query(
        self, sql: str, *, relations: Mapping[str, Relation] | None = None, params: Mapping[str, Any] | None = None
    ) -> pa.Table:
        """Run `sql` (the dialect above) with `{name}` relations and `$name` parameters."""
        ...

    def rows_at(self, paths: Sequence[Path], pos: int, *, columns: Sequence[str] | None = None) -> pa.Table | None:
        """Every row at `pos` in these parts (None when there is none): a point read."""
        ...

    def sorted_join(self, expr: str, separator: str) -> str:
        """SQL for the aggregate joining `expr`'s values, sorted, with `separator` (a SQL literal)."""
        ...

    def close(self) -> None: ...


def plain_types(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded: what an engine that takes Arrow input (Spark) can read."""
    if not any(pa.types.is_dictionary(f.type) for f in table.schema):
        return table
    schema = pa.schema(
        [pa.field(f.name, f.type.value_type, f.nullable) if pa.types.is_dictionary(f.type) else f for f in table.schema]
    )
    return table.cast(schema)


class DuckDBEngine:
    """The embedded engine: one long-lived connection (its Parquet metadata cache makes repeated
    reads of the same immutable parts cheap), one cursor per query (thread-safe), point reads from
    the parts' row-group index (store.reader) rather than through SQL."""

    name = "duckdb"

    def __init__(self, *, threads: int = 2) -> None:
        self._con = duckdb.connect(config={"threads": threads})
        self._con.execute("SET parquet_metadata_cache = true")  # parts are immutable

    def query(
        self, sql: str, *, relations: Mapping[str, Relation] | None = None, params: Mapping[str, Any] | None = None
    ) -> pa.Table:
        cur = self._con.cursor()
        try:
            values = dict(params or {})
            names: dict[str, str] = {}
            for name, relation in (relations or {}).items():
                if isinstance(relation, Parts) and relation.paths:
                    values[f"parts_{name}"] = [str(p) for p in relation.paths]
                    names[name] = f"read_parquet($parts_{name}{', filename = true' if relation.filename else ''})"
                else:
                    table = relation.empty() if isinstance(relation, Parts) else relation
                    cur.register(f"relation_{name}", table)
                    names[name] = f"relation_{name}"
            return cur.sql(sql.format(**names), params=values or None).to_arrow_table()
        finally:
            cur.close()

    def rows_at(self, paths: Sequence[Path], pos: int, *, columns: Sequence[str] | None = None) -> pa.Table | None:
        return rows_at(paths, pos, columns=columns)

    def sorted_join(self, expr: str, separator: str) -> str:
        return f"string_agg({expr}, {separator} ORDER BY {expr})"

    def close(self) -> None:
        self._con.close()


def local_path(location: str) -> Path:
    """A part's location as an engine names it (DuckDB: the path; Spark: a file: URI) as a path."""
    return Path(unquote(urlparse(location).path)) if location.startswith("file:") else Path(location)


def open_engine(
    name: str, *, threads: int = 2, spark_master: str = "local[2]", spark_conf: Mapping[str, str] | None = None
) -> StoreEngine:
    """The engine a node's settings name; Spark is imported only when asked for."""
    if name == "duckdb":
        return DuckDBEngine(threads=threads)
    if name == "spark":
        from genomenode.store.spark import SparkEngine

        return SparkEngine(master=spark_master, conf=spark_conf or {})
    from genomenode.errors import ConfigurationError

    raise ConfigurationError(f"GENOMENODE_ENGINE={name!r}: choose duckdb or spark")
