"""PGx calls for every person in the database: the batch job behind the national PGx tables.

People are cut into batches; each batch is one task that reads its samples' genotypes at the
PGx positions from the shared store (an embedded DuckDB inside the task: a batch's reads are
small and selective) and calls every gene for each person with the same code as a single report
(`pgx.calling.call_sample`). On Spark (GENOMENODE_ENGINE=spark) the batches are Spark tasks
spread over the cluster's cores; on one machine they run one after another. Either way the
rows are identical: one per person and gene, in the order of the people.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from genomenode.domain.assembly import Assembly
from genomenode.pgx.calling import call_sample
from genomenode.pgx.knowledge import knowledge
from genomenode.query.pgx import PgxSite, StoredSample, observed_for_samples, stored_samples
from genomenode.query.service import NodeQueries
from genomenode.store.engine import DuckDBEngine

BATCH = 250  # people per task: enough to amortise the reads, few enough to keep a task's memory flat
Progress = Callable[[str, int, int | None], None]

CALLS_SCHEMA = pa.schema(
    [
        ("individual", pa.string()),  # the person's pseudonym
        ("dataset", pa.string()),
        ("region", pa.string()),
        ("population", pa.string()),
        ("gene", pa.string()),
        ("diplotype", pa.string()),  # ' or '-joined when the genotypes allow several
        ("phenotype", pa.string()),  # null: no call
        ("activity_score", pa.string()),
        ("missing_positions", pa.int32()),
        ("phased", pa.bool_()),
        ("source", pa.string()),
    ]
)


@dataclass(frozen=True)
class Person:
    """One person in the job: their newest GRCh38 sample and what the tables group them by."""

    sample: int  # catalog id (store code)
    name: str  # as the centre submitted it
    pseudonym: str
    dataset: str
    region: str
    population: str


@dataclass(frozen=True)
class _Task:
    people: tuple[Person, ...]
    samples: tuple[StoredSample, ...]
    variants: tuple[Path, ...]
    calls: tuple[Path, ...]
    coverage: tuple[Path, ...]
    sites: tuple[PgxSite, ...]


def call_people(
    queries: NodeQueries, people: Sequence[Person], sites: Sequence[PgxSite], *, progress: Progress | None = None
) -> pa.Table:
    """CALLS_SCHEMA rows for `people` (already allowed and audited by the caller)."""
    report = progress or (lambda *_: None)
    tasks = _tasks(queries, people, sites)
    report("calling PGx genes", 0, len(tasks))
    if queries.settings.engine == "spark":
        from genomenode.store.spark import run_tasks, spark_session

        spark = spark_session(queries.settings.spark_master, queries.settings.spark_conf)
        outcomes = run_tasks(spark, _call_task, tasks)
        for _, error in outcomes:
            if error is not None:
                raise error
        rows = [row for result, _ in outcomes for row in result or []]
    else:
        rows = []
        for i, task in enumerate(tasks):
            rows += _call_task(task)
            report("calling PGx genes", i + 1, len(tasks))
    report("calling PGx genes", len(tasks), len(tasks))
    return pa.Table.from_pylist(rows, schema=CALLS_SCHEMA)


def _tasks(queries: NodeQueries, people: Sequence[Person], sites: Sequence[PgxSite]) -> list[_Task]:
    files = queries.live_parts(Assembly.GRCh38.value, {s.chrom for s in sites})
    with queries.Session() as session:
        stored = {s.id: s for s in stored_samples(session, [p.sample for p in people])}
    return [
        _Task(
            tuple(batch),
            tuple(stored[p.sample] for p in batch if p.sample in stored),  # others: no genotypes, no call
            tuple(files["variants"]),
            tuple(files["calls"]),
            tuple(files["coverage"]),
            tuple(sites),
        )
        for batch in (people[i : i + BATCH] for i in range(0, len(people), BATCH))
    ]


def _call_task(task: _Task) -> list[dict[str, Any]]:
    """One batch, wherever it runs: read the genotypes, call every gene of every person."""
    k = knowledge()
    engine = DuckDBEngine(threads=1)
    try:
        observed = observed_for_samples(
            engine,
            variants_files=task.variants,
            calls_files=task.calls,
            coverage_files=task.coverage,
            samples=task.samples,
            sites=task.sites,
            assembly=Assembly.GRCh38,
        )
    finally:
        engine.close()
    rows = []
    for person in task.people:
        report = call_sample(k, observed.get(person.sample, []), sample=person.name, source="national database")
        for gene, entry in sorted(report["genes"].items()):
            score = entry.get("activity_score")
            rows.append(
                {
                    "individual": person.pseudonym,
                    "dataset": person.dataset,
                    "region": person.region,
                    "population": person.population,
                    "gene": gene,
                    "diplotype": " or ".join(entry["diplotypes"]) or None,
                    "phenotype": entry["phenotype"],
                    "activity_score": None if score is None else str(score),
                    "missing_positions": len(entry.get("missing_positions") or ()),
                    "phased": entry.get("phased"),
                    "source": entry.get("source"),
                }
            )
    return rows
