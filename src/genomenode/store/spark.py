"""The Spark engine: the same queries over the same Parquet parts, on a cluster or `local[N]`.

Chosen with `GENOMENODE_ENGINE=spark`; `GENOMENODE_SPARK_MASTER` names the cluster (`local[2]`,
`spark://host:7077`, `yarn`, `k8s://...`) and `GENOMENODE_SPARK_CONF` (JSON) adds Spark settings
(executor memory, cores). The store must be on a filesystem every executor sees at the same path
(the national HPC's shared filesystem, or a POSIX mount of object storage): parts are addressed
as `file://` paths. One Spark session serves the process; nodes opened in it share it.

Reading a part list costs Spark a file listing and a footer read, so each list's DataFrame is
kept (parts are immutable: a new run's parts are a new list).
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from genomenode.errors import ConfigurationError
from genomenode.store.engine import Parts, Relation, plain_types

_FRAMES_KEPT = 512
_GLOB = re.compile(r"[*?\[\]{}\\]")

# Settings every genomenode session needs; GENOMENODE_SPARK_CONF may override the tuning ones.
REQUIRED_CONF = {
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",  # the shared dialect quotes names with "
    "spark.sql.ansi.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
}
DEFAULT_CONF = {
    "spark.app.name": "genomenode",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "true",
    # the default of 200 shuffle partitions makes every small query pay 200 tasks
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # broadcast joins only on sizes seen at run time: the planner's guesses from Parquet file sizes
    # under-estimate aggregated alleles by orders of magnitude, and a wrong broadcast fails the job
    # ("Not enough memory to build and broadcast the table") at 10,000 genomes
    "spark.sql.autoBroadcastJoinThreshold": "-1",
    "spark.sql.adaptive.autoBroadcastJoinThreshold": "10MB",
}

_session_lock = threading.Lock()
In = TypeVar("In")
Out = TypeVar("Out")


def spark_session(master: str, conf: Mapping[str, str]) -> SparkSession:
    """The process's Spark session, started on first use (and stopped at exit)."""
    with _session_lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            running = active.sparkContext.master
            if running != master:
                raise ConfigurationError(
                    f"a Spark session on {running!r} already runs in this process; "
                    f"GENOMENODE_SPARK_MASTER={master!r} cannot start another (one master per process)"
                )
            return active
        builder = SparkSession.builder.master(master)
        local: dict[str, str] = {}
        if master.startswith("local"):  # Python workers from this venv (PySpark reads only the variable)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            # the driver is every executor here: Spark's 1 GB cannot hold a 10,000-genome chromosome's joins
            local["spark.driver.memory"] = "4g"
        for key, value in {**DEFAULT_CONF, **local, **conf, **REQUIRED_CONF}.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start or the master is unreachable
            raise ConfigurationError(
                f"could not start Spark on {master!r}: {exc}; "
                "check GENOMENODE_SPARK_MASTER and that Java 17+ is installed"
            ) from exc
        session.sparkContext.setLogLevel("ERROR")
        atexit.register(session.stop)
        return session


class SparkEngine:
    """Store reads as Spark SQL. Thread-safe: Spark runs queries from many threads at once."""

    name = "spark"

    def __init__(self, *, master: str = "local[2]", conf: Mapping[str, str] | None = None) -> None:
        self.spark = spark_session(master, conf or {})
        self._frames: OrderedDict[tuple[tuple[Path, ...], bool], DataFrame] = OrderedDict()
        self._lock = threading.Lock()

    def frame(self, relation: Relation) -> DataFrame:
        """A relation as a DataFrame: parts read (and kept) once, Arrow tables sent as they are."""
        if isinstance(relation, pa.Table):
            return self.spark.createDataFrame(plain_types(relation))
        if not relation.paths:
            return self.spark.createDataFrame(relation.empty())
        key = (relation.paths, relation.filename)
        with self._lock:
            found = self._frames.get(key)
            if found is not None:
                self._frames.move_to_end(key)
                return found
        frame = self.spark.read.parquet(*[_location(p) for p in relation.paths])
        if relation.filename:
            frame = frame.withColumn("filename", F.col("_metadata.file_path"))
        with self._lock:
            self._frames[key] = frame
            while len(self._frames) > _FRAMES_KEPT:
                self._frames.popitem(last=False)
        return frame

    def query(
        self, sql: str, *, relations: Mapping[str, Relation] | None = None, params: Mapping[str, Any] | None = None
    ) -> pa.Table:
        frames = {name: self.frame(r) for name, r in (relations or {}).items()}
        text = re.sub(r"\$([A-Za-z_]\w*)", r":\1", sql)  # DuckDB's $name is Spark's :name
        return self.spark.sql(text, args=dict(params or {}), **frames).toArrow()

    def rows_at(self, paths: Sequence[Path], pos: int, *, columns: Sequence[str] | None = None) -> pa.Table | None:
        if not paths:
            return None
        frame = self.frame(Parts("", tuple(paths))).where(F.col("pos") == pos)
        if columns:
            frame = frame.select(*columns)
        table = frame.toArrow()
        return table if table.num_rows else None

    def sorted_join(self, expr: str, separator: str) -> str:
        return f"listagg({expr}, {separator}) WITHIN GROUP (ORDER BY {expr})"

    def close(self) -> None:
        """The session outlives one engine (others in the process may share it); kept frames go."""
        with self._lock:
            self._frames.clear()


def run_tasks(
    spark: SparkSession, function: Callable[[In], Out], items: Sequence[In]
) -> list[tuple[Out | None, BaseException | None]]:
    """`function` over `items`, one Spark task each, results in order. A task's exception comes
    back as its value (not raised on the executor), so the caller sees the error genomenode
    raised, with its message, rather than Spark's wrapper, and can clean up every task's work."""
    if not items:
        return []
    return spark.sparkContext.parallelize(list(items), len(items)).map(_Guarded(function)).collect()


class _Guarded(Generic[In, Out]):
    def __init__(self, function: Callable[[In], Out]) -> None:
        self.function = function

    def __call__(self, item: In) -> tuple[Out | None, BaseException | None]:
        try:
            return self.function(item), None
        except Exception as exc:  # returned to the driver, which raises it
            return None, exc


def _location(path: Path) -> str:
    """A part as Spark (Hadoop) names it: an absolute file:// path, which must hold no glob."""
    text = str(path.resolve())
    if _GLOB.search(text):
        raise ConfigurationError(
            f"{text}: Spark reads paths as glob patterns; move the data dir to a path without * ? [ ] {{ }} or \\"
        )
    return "file://" + text
