"""Scale benchmark (issue 8): 10,000 genomes on one chromosome, ingested one centre delivery at a time.

    .venv/bin/python benchmarks/scale.py                     (or: make scale-benchmark)
    .venv/bin/python benchmarks/scale.py --samples 1000 --batches 2 --no-write   (a quick check)
    .venv/bin/python benchmarks/scale.py --report-only       (the section again from the last results)

1. Cohort (simulated once, cached in benchmarks/.work/scale/cohort-*/): `--samples` people (10,000)
   from msprime under the package's out-of-Africa demography (`genomenode.simulate.demography`,
   recent explosive growth, so most sites are rare), mutation rate 1.29e-8 and recombination 1e-8
   per bp, on GRCh38 chr22 from 36,000,001 over `--length-mb` (10 Mb). The people are cut into
   `--batches` (10) deliveries of equal size, delivery k from the demo's regional centre k mod 5 with
   that centre's population mix (`genomenode.simulate.people`). Each delivery is a bgzipped,
   tabix-indexed VCF written by benchmarks/make_vcf.py's `write_vcf` (FORMAT GT:DP:GQ:AD, REF/ALT
   agreeing across deliveries) with a sample sheet (sex, population, centre, consent), and holds
   only the sites where one of its own people carries an ALT: a centre's variant-only VCF.
2. Ingest: the deliveries in order into a fresh node, each as its own `genomenode ingest` process
   under /usr/bin/time -v (wall, max RSS) with the CPU seconds of its whole process tree (user + sys,
   from getrusage of this process's children, the build workers included). The process is the
   real CLI, started through `scale.py timed-cli`, which only wraps timers around the ingest
   pipeline's stages (checksum, build of the file's parts, the statistics recompute and its DuckDB
   query, archive, catalog rows) before calling `genomenode.cli.main.app`; nothing is changed. After
   each delivery the catalog says which parts the run wrote and which it superseded, and how many
   live bytes each store table holds; a few lookups and region queries probe the store at that size.
   Genotypes per second per core = samples in the delivery × records in its VCF ÷ CPU seconds.
3. Queries, warm and in process (`NodeQueries`), per engine (`--engines duckdb,spark`; Spark needs
   `Settings.engine`, else it is skipped): 100 single-variant lookups of random stored alleles, 20
   random 1 Mb region frequency queries, and the full statistics recompute of the chromosome
   (`store.stats.compute_stats` over every live site_counts, coverage and variants part, with the
   catalog's call groups, as pipeline/restats.py runs it).
4. The "## Scale: 10,000 genomes on one chromosome" section of docs/benchmarks.md (benchmarks/run.py
   keeps it). Raw numbers: benchmarks/.work/scale/results-<samples>x<batches>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import io
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from common import CODE, DOCS, REPO, commit, git, machine, pct, time_v, uncommitted, write_section

WORK = REPO / "benchmarks" / ".work" / "scale"
SECTION = "## Scale: 10,000 genomes on one chromosome"
CHROM = "chr22"
START = 36_000_001  # make_vcf.OFFSET + 1: the stretch benchmarks/run.py's input also covers
ASSEMBLY = "GRCh38"
DATASET = "national"
SEED = 8
SNAPSHOT_ENV = "SCALE_BENCHMARK_CODE"  # set in the run that imports a snapshot of HEAD's code
LOOKUPS, REGIONS, REGION_SPAN = 100, 20, 1_000_000
PROBE_LOOKUPS, PROBE_REGIONS = 40, 5  # after each delivery
# local[2] with Spark's default 1 GB driver fails the 10,000-person recompute ("Not enough memory to
# build and broadcast the table"); DuckDB's recompute peaks at ~6 GB here
SPARK_CONF = {"spark.driver.memory": "6g"}
BROADCAST = "spark.sql.autoBroadcastJoinThreshold"  # -1: no broadcast joins, the workaround Spark's error names
STORE_TABLES = ("calls", "variants", "site_counts", "coverage", "variant_stats")
STAGES = {  # (module, function) → stage name; timed in the ingest process by `timed-cli`
    ("genomenode.pipeline.ingest", "_sweep"): "sweep",
    ("genomenode.pipeline.ingest", "sha256_of"): "checksum",
    ("genomenode.pipeline.ingest", "_build_file"): "build parts",
    ("genomenode.pipeline.ingest", "_build_files_on_spark"): "build parts",
    ("genomenode.pipeline.ingest", "recompute_stats"): "statistics",
    ("genomenode.pipeline.restats", "compute_stats"): "statistics: query",
    ("genomenode.pipeline.restats", "write_part"): "statistics: write",
    ("genomenode.pipeline.ingest", "_archive"): "archive",
    ("genomenode.pipeline.ingest", "_commit_catalog"): "catalog rows",
    ("genomenode.pipeline.ingest", "ingest"): "ingest()",
}


def say(text: str) -> None:
    print(text, flush=True)


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def descendants() -> set[int]:
    """Process ids of this process's live descendants."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
    mine: set[int] = set()
    frontier = {os.getpid()}
    while frontier:
        frontier = {pid for pid, pp in parent.items() if pp in frontier and pid not in mine}
        mine |= frontier
    return mine


def descendants_peak_rss_mb() -> float:
    """The largest peak RSS (VmHWM) among live descendants, in MB: the Spark JVM's."""
    peak = 0
    for pid in descendants():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peak = max([peak, *(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmHWM:"))])
    return peak / 1024


def tree_cpu() -> float:
    """CPU seconds of this process, its ended children and its live descendants (the Spark JVM is one:
    getrusage counts a child only once it has ended and been waited for)."""
    ticks = 0
    for pid in descendants():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    live = ticks / os.sysconf("SC_CLK_TCK")
    return cpu_seconds(resource.RUSAGE_SELF) + cpu_seconds(resource.RUSAGE_CHILDREN) + live


def code_root() -> Path:
    """The genomenode package this run imports: the snapshot's (see `snapshot`) or the shared tree's."""
    return Path(os.environ[SNAPSHOT_ENV]) / "src" / "genomenode" if SNAPSHOT_ENV in os.environ else REPO / CODE


def code_version() -> str:
    """A fingerprint of the genomenode code on disk now: in the shared tree (`--tree`) it can change
    under a run, so each delivery records the code it ran."""
    digest = hashlib.sha1(usedforsecurity=False)
    root = code_root()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:8]


def changed_since(when: float) -> list[str]:
    """Files of the measured code written after `when` (epoch seconds)."""
    root = code_root()
    return sorted(p.relative_to(root.parent).as_posix() for p in root.rglob("*.py") if p.stat().st_mtime > when)


def snapshot() -> Path:
    """HEAD's src/ (`git archive`, no change to the shared tree or its index) in WORK/code-<commit>/.

    The tree is shared with work in progress (files are edited, even half-written, during a run);
    the benchmark measures a commit instead, by running itself again (a child process) with the
    snapshot first on PYTHONPATH (before the editable install's src/); the ingest processes and
    Spark's Python workers inherit it."""
    head = git("rev-parse", "HEAD").strip()
    dest = WORK / f"code-{head[:10]}"
    if not (dest / "src" / "genomenode" / "__init__.py").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", head, "src"], capture_output=True)
        if archive.returncode != 0:
            sys.exit(f"git archive failed: {archive.stderr.decode()[-300:]}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(dest, filter="data")
    return dest


def short_error(exc: BaseException) -> str:
    """An exception as one table-safe line: its first line and the JVM's 'Caused by' line, if any."""
    text = str(exc).splitlines() or [""]
    cause = next((ln.strip().split(". ")[0] for ln in text if ln.startswith("Caused by:")), "")
    line = f"{type(exc).__name__}: {text[0].strip()}" + (f" … {cause}" if cause else "")
    return line[:400].replace("|", "\\|")


# --- the timed CLI process ---------------------------------------------------------------------


def timed_cli(out: str, args: list[str]) -> None:
    """`genomenode ARGS` with a timer around each stage in STAGES; the timings go to `out` (JSON)."""
    import importlib

    spent: list[dict[str, Any]] = []

    def wrap(module: Any, name: str, stage: str) -> None:
        original = getattr(module, name, None)
        if original is None:  # the code moved on: that stage is simply not timed
            return

        def timed(*a: Any, **kw: Any) -> Any:
            wall, cpu = time.perf_counter(), tree_cpu()
            try:
                return original(*a, **kw)
            finally:
                spent.append({"stage": stage, "wall": time.perf_counter() - wall, "cpu": tree_cpu() - cpu})

        setattr(module, name, timed)

    began = time.perf_counter()
    for (module_name, name), stage in STAGES.items():
        wrap(importlib.import_module(module_name), name, stage)
    from genomenode.cli.main import app

    imports = time.perf_counter() - began
    try:
        app(args=args, prog_name="genomenode")
    finally:  # the whole tree's CPU, a JVM included (it may outlive this process unwaited)
        Path(out).write_text(
            json.dumps(
                {
                    "imports": imports,
                    "stages": spent,
                    "cpu": tree_cpu(),
                    "jvm_rss_mb": descendants_peak_rss_mb(),
                    "module": sys.modules["genomenode"].__file__,
                }
            )
        )


# --- 1. the cohort -----------------------------------------------------------------------------


def cohort(samples: int, batches: int, length: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The deliveries' VCFs and sample sheets, simulated once into WORK/cohort-*/."""
    from make_vcf import random_alleles, simulate_cohort, write_vcf

    from genomenode.simulate.demography import POPULATIONS
    from genomenode.simulate.people import CENTRE_POPULATION_MIX, CENTRES, CONSENTS

    folder = WORK / f"cohort-{samples}x{batches}-{length // 1000}kb-seed{seed}"
    stamp = folder / "cohort.json"
    if stamp.exists():
        say(f"reusing the cohort in {folder}")
        return folder, json.loads(stamp.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    sizes = [samples // batches + (1 if b < samples % batches else 0) for b in range(batches)]
    plan = []  # per delivery: centre, people per population
    for b, size in enumerate(sizes):
        centre = b % len(CENTRES)
        share = CENTRE_POPULATION_MIX[centre] * size
        counts = np.floor(share).astype(int)
        counts[np.argsort(-(share - counts))[: size - counts.sum()]] += 1  # largest remainders
        plan.append((CENTRES[centre], counts))
    totals = np.sum([c for _, c in plan], axis=0)
    say(
        f"simulating {samples:,} people over {CHROM}:{START:,}-{START + length - 1:,} "
        f"({', '.join(f'{p} {n:,}' for p, n in zip(POPULATIONS, totals, strict=True))})"
    )
    t = time.perf_counter()
    ts = simulate_cohort(list(zip(POPULATIONS, totals.tolist(), strict=True)), length=length, seed=seed)
    simulate_s = time.perf_counter() - t
    positions = START + ts.tables.sites.position.astype(np.int64)
    refs, alts = random_alleles(ts.num_sites, seed)
    say(f"  {ts.num_sites:,} sites, {ts.num_trees:,} trees in {simulate_s:.0f} s")
    # msprime numbers individuals population by population, in POPULATIONS order
    queues = {p: list(range(int(totals[:i].sum()), int(totals[: i + 1].sum()))) for i, p in enumerate(POPULATIONS)}
    consent_codes = [c for c, _ in CONSENTS]
    consent_p = np.array([w for _, w in CONSENTS]) / sum(w for _, w in CONSENTS)
    ac = np.zeros(ts.num_sites, np.int64)
    deliveries = []
    t = time.perf_counter()
    for b, (centre, counts) in enumerate(plan):
        people: list[tuple[int, str]] = []
        for pop, n in zip(POPULATIONS, counts, strict=True):
            people += [(queues[pop].pop(0), pop) for _ in range(n)]
        people = [people[i] for i in rng.permutation(len(people))]  # a centre's columns are not sorted by ancestry
        names = [f"B{b + 1:02d}-{i + 1:05d}" for i in range(len(people))]
        nodes = np.concatenate([ts.individual(i).nodes for i, _ in people])
        genotypes = ts.genotype_matrix(samples=nodes).astype(np.int8)  # int32 from tskit: 4× the memory
        np.minimum(genotypes, 1, out=genotypes)
        keep = genotypes.any(axis=1)
        ac += genotypes.sum(axis=1)
        vcf = folder / f"delivery-{b + 1:02d}.vcf.gz"
        write_vcf(vcf, positions[keep], genotypes[keep], seed + b + 1, samples=names, alleles=(refs[keep], alts[keep]))
        del genotypes
        sexes = rng.choice(["female", "male"], size=len(people))
        consents = rng.choice(consent_codes, size=len(people), p=consent_p)
        sheet = folder / f"delivery-{b + 1:02d}.samples.tsv"
        sheet.write_text(
            "sample_id\tsex\tpopulation\tcentre\tconsent\n"
            + "".join(
                f"{name}\t{sex}\t{pop}\t{centre}\t{consent}\n"
                for name, (_, pop), sex, consent in zip(names, people, sexes, consents, strict=True)
            )
        )
        deliveries.append(
            {
                "vcf": vcf.name,
                "sheet": sheet.name,
                "centre": centre,
                "samples": len(people),
                "sites": int(keep.sum()),
                "bytes": vcf.stat().st_size,
                "populations": dict(Counter(pop for _, pop in people)),
            }
        )
        say(f"  delivery {b + 1}/{batches} ({centre}): {len(people):,} people × {int(keep.sum()):,} sites")
    info = {
        "samples": samples,
        "batches": batches,
        "length": length,
        "seed": seed,
        "chrom": CHROM,
        "start": START,
        "sites": int(ts.num_sites),
        "segregating": int((ac > 0).sum()),
        "singletons": int((ac == 1).sum()),
        "rare": int(((ac > 0) & (ac < 0.01 * 2 * samples)).sum()),  # AF < 1%
        "populations": {p: int(n) for p, n in zip(POPULATIONS, totals, strict=True)},
        "simulate_seconds": simulate_s,
        "write_seconds": time.perf_counter() - t,
        "deliveries": deliveries,
    }
    stamp.write_text(json.dumps(info, indent=1))
    return folder, info


# --- 2. ingest, delivery by delivery -----------------------------------------------------------


def catalog(node: Path) -> sqlite3.Connection:
    from genomenode.catalog.database import SQLITE_FILENAME

    return sqlite3.connect(f"file:{node / SQLITE_FILENAME}?mode=ro", uri=True)


def store_state(node: Path) -> dict[str, Any]:
    """Live parts per table (catalog), what the last run wrote and superseded, and the archive's bytes."""
    with catalog(node) as db:
        run = db.execute("SELECT max(id) FROM ingest_runs").fetchone()[0]
        live = {
            t: {"parts": n, "bytes": b or 0, "rows": r or 0}
            for t, n, b, r in db.execute(
                "SELECT table_name, count(*), sum(size_bytes), sum(n_rows) FROM store_files "
                "WHERE removed_run_id IS NULL GROUP BY table_name"
            )
        }
        written = [
            {"table": t, "path": p, "bytes": b, "rows": r}
            for t, p, b, r in db.execute(
                "SELECT table_name, path, size_bytes, n_rows FROM store_files WHERE run_id = ? ORDER BY path", (run,)
            )
        ]
        superseded = [
            {"table": t, "path": p, "bytes": b}
            for t, p, b in db.execute(
                "SELECT table_name, path, size_bytes FROM store_files WHERE removed_run_id = ? ORDER BY path", (run,)
            )
        ]
    archive = sum(p.stat().st_size for p in (node / "archive").rglob("*") if p.is_file())
    on_disk = sum(p.stat().st_size for p in (node / "store").rglob("*.parquet"))
    return {
        "run": run,
        "live": live,
        "written": written,
        "superseded": superseded,
        "archive_bytes": archive,
        "disk_bytes": on_disk,
    }


def ingest_all(
    folder: Path,
    info: dict[str, Any],
    node: Path,
    out: list[dict[str, Any]],
    *,
    probe: bool,
    env: dict[str, str],
    start: int = 1,
) -> None:
    """The deliveries from `start` on into `node` (made afresh when starting at 1), appending a row to
    `out` after each; `env`: GENOMENODE_* settings for the CLI processes."""
    logs = node.with_name(node.name + "-logs")
    if start == 1:
        shutil.rmtree(node, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True, exist_ok=True)
    so_far = sum(d["samples"] for d in info["deliveries"][: start - 1])
    for b, d in enumerate(info["deliveries"], start=1):
        if b < start:
            continue
        stages = logs / f"delivery-{b:02d}.stages.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "timed-cli",
            str(stages),
            "--data-dir",
            str(node),
            "ingest",
            str(folder / d["vcf"]),
            "--dataset",
            DATASET,
            "--centre",
            d["centre"],
            "--samples",
            str(folder / d["sheet"]),
        ]
        load = os.getloadavg()[0]
        code = code_version()
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with (logs / f"delivery-{b:02d}.out").open("w") as fh:
                wall, rss, error = time_v(cmd, stdout=fh)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
        if error:
            raise RuntimeError(f"ingest of delivery {b} failed: {error}")
        so_far += d["samples"]
        timings = json.loads(stages.read_text())
        if SNAPSHOT_ENV in os.environ and not timings["module"].startswith(os.environ[SNAPSHOT_ENV]):
            raise RuntimeError(f"the ingest process imported {timings['module']}, not the snapshot")
        cpu = max(cpu, timings.get("cpu", 0.0))  # the larger: a JVM the process left unwaited is only in its own
        by_stage: dict[str, dict[str, float]] = {}
        for s in timings["stages"]:
            acc = by_stage.setdefault(s["stage"], {"wall": 0.0, "cpu": 0.0})
            acc["wall"] += s["wall"]
            acc["cpu"] += s["cpu"]
        row = {
            "batch": b,
            "centre": d["centre"],
            "samples": d["samples"],
            "samples_so_far": so_far,
            "sites": d["sites"],
            "vcf_bytes": d["bytes"],
            "wall": wall,
            "cpu": cpu,
            "rss_mb": rss,
            "jvm_rss_mb": timings.get("jvm_rss_mb", 0.0),
            "load": load,
            "code": code,
            "imports": timings["imports"],
            "stages": by_stage,
            "store": store_state(node),
        }
        if probe:
            row["probe"] = probe_queries(node, seed=b)
        out.append(row)
        st = by_stage.get("statistics", {}).get("wall", float("nan"))
        say(
            f"  delivery {b}: {wall:.1f} s wall, {cpu:.1f} s CPU, statistics {st:.1f} s, max RSS {rss:,.0f} MB, "
            f"store {sum(v['bytes'] for v in row['store']['live'].values()) / 1e6:,.1f} MB"
            + (
                f"; lookup p50 {row['probe']['lookup_p50'] * 1e3:.1f} ms, region p50 {row['probe']['region_p50']:.3f} s"
                if probe
                else ""
            )
        )


# --- 3. queries --------------------------------------------------------------------------------


def stored_alleles(node: Path) -> list[tuple[int, str, str]]:
    """(pos, ref, alt) of every allele in the live statistics."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    with catalog(node) as db:
        paths = [
            node / "store" / p
            for (p,) in db.execute(
                "SELECT path FROM store_files WHERE table_name = 'variant_stats' AND removed_run_id IS NULL"
            )
        ]
    out: list[tuple[int, str, str]] = []
    for path in paths:
        t = pq.read_table(path, columns=["scope", "stratum", "pos", "ref", "alt"])
        t = t.filter(pc.and_(pc.equal(t["scope"].cast("string"), "*"), pc.equal(t["stratum"].cast("string"), "all")))
        out += zip(t["pos"].to_pylist(), t["ref"].to_pylist(), t["alt"].to_pylist(), strict=True)
    return out


def windows(n: int, length: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    starts = rng.integers(START, START + max(1, length - REGION_SPAN), size=n)
    return [(int(s), int(s) + REGION_SPAN - 1) for s in starts]


def time_queries(
    q: Any, alleles: list[tuple[int, str, str]], regions: list[tuple[int, int]]
) -> tuple[list[float], list[float], list[int]]:
    from genomenode.domain.variant import Region

    lookups = []
    for pos, ref, alt in alleles:
        t = time.perf_counter()
        q.variant(f"{CHROM}-{pos}-{ref}-{alt}")
        lookups.append(time.perf_counter() - t)
    region_s, rows = [], []
    for start, end in regions:
        t = time.perf_counter()
        answer = q.frequencies(region=Region(CHROM, start, end))
        region_s.append(time.perf_counter() - t)
        rows.append(len(answer.rows))
    return lookups, region_s, rows


def probe_queries(node: Path, *, seed: int) -> dict[str, Any]:
    """A few DuckDB lookups and region queries on the store as it is after a delivery (warm)."""
    from genomenode.query.service import NodeQueries
    from genomenode.settings import Settings

    rng = np.random.default_rng(seed)
    alleles = stored_alleles(node)
    picked = [alleles[i] for i in rng.choice(len(alleles), size=min(PROBE_LOOKUPS, len(alleles)), replace=False)]
    length = max(a[0] for a in alleles) - START + 1
    with NodeQueries(Settings(data_dir=node)) as q:
        time_queries(q, picked[:3], windows(2, length, rng))  # warm-up
        lookups, regions, rows = time_queries(q, picked, windows(PROBE_REGIONS, length, rng))
    return {
        "lookup_p50": pct(lookups, 0.5),
        "lookup_p95": pct(lookups, 0.95),
        "region_p50": pct(regions, 0.5),
        "region_rows": int(np.median(rows)),
    }


def recompute(node: Path, store_engine: Any | None) -> dict[str, Any]:
    """The chromosome's statistics from scratch, as pipeline/restats.py computes them (nothing is written)."""
    import pyarrow as pa

    from genomenode.catalog import repository as repo
    from genomenode.catalog.database import catalog_url, open_catalog, session_factory
    from genomenode.domain.assembly import Assembly
    from genomenode.pipeline.restats import group_rows
    from genomenode.store.stats import GROUPS_SCHEMA, compute_stats

    engine = open_catalog(catalog_url(node, None))
    try:
        with session_factory(engine)() as session:
            groups = group_rows(session, Assembly(ASSEMBLY))
            files = {
                t: [node / "store" / f.path for f in repo.live_store_files(session, table_name=t, assembly=ASSEMBLY)]
                for t in ("site_counts", "coverage", "variants")
            }
    finally:
        engine.dispose()
    kwargs: dict[str, Any] = {
        "chrom": CHROM,
        "site_files": files["site_counts"],
        "coverage_files": files["coverage"],
        "variant_files": files["variants"],
        "groups": pa.Table.from_pylist(groups, schema=GROUPS_SCHEMA),
    }
    if "engine" in inspect.signature(compute_stats).parameters:
        kwargs["engine"] = store_engine
    elif store_engine is not None and store_engine.name != "duckdb":
        return {"error": "store.stats.compute_stats takes no engine in this tree: no Spark statistics job to time"}
    runs = []
    failed = None
    while len(runs) < 2:
        wall, cpu = time.perf_counter(), tree_cpu()
        try:
            table = compute_stats(**kwargs)
        except Exception as exc:
            spark = getattr(store_engine, "spark", None)
            if failed is not None or spark is None:
                raise
            traceback.print_exc()
            failed = short_error(exc)  # once: again without broadcast joins, the workaround Spark names
            spark.conf.set(BROADCAST, "-1")
            continue
        runs.append({"wall": time.perf_counter() - wall, "cpu": tree_cpu() - cpu})
    return {
        "runs": runs,
        "failed_first": failed,
        "rows": table.num_rows,
        "groups": len(groups),
        "parts": {t: len(v) for t, v in files.items()},
    }


def measure_engine(
    node: Path, engine: str, alleles: list[tuple[int, str, str]], length: int, spark_conf: dict[str, str]
) -> dict[str, Any]:
    from genomenode.query.service import NodeQueries
    from genomenode.settings import Settings

    if engine != "duckdb" and "engine" not in Settings.model_fields:
        return {"skipped": "Settings has no engine field in this tree"}
    extra: dict[str, Any] = {} if engine == "duckdb" else {"engine": engine, "spark_master": "local[2]"}
    if engine == "spark" and "spark_conf" in Settings.model_fields:
        extra["spark_conf"] = spark_conf
    settings = Settings(data_dir=node, **extra)
    rng = np.random.default_rng(SEED)
    picked = [alleles[i] for i in rng.choice(len(alleles), size=min(LOOKUPS, len(alleles)), replace=False)]
    out: dict[str, Any] = {"code": code_version(), "conf": extra}
    t = time.perf_counter()
    q = NodeQueries(settings)
    try:
        out["open_s"] = time.perf_counter() - t
        t = time.perf_counter()
        time_queries(q, picked[:1], [])
        out["first_lookup_s"] = time.perf_counter() - t
        t = time.perf_counter()
        time_queries(q, [], windows(1, length, rng))
        out["first_region_s"] = time.perf_counter() - t
        time_queries(q, picked[1:4], windows(2, length, rng))  # warm-up
        lookups, regions, rows = time_queries(q, picked, windows(REGIONS, length, rng))
        out.update(lookup_s=lookups, region_s=regions, region_rows=rows)
        try:
            out["stats"] = recompute(node, getattr(q, "store_engine", None))
        except Exception as exc:  # the queries stand; the section says the recompute failed
            traceback.print_exc()
            out["stats"] = {"error": short_error(exc)}
    finally:
        q.close()
    return out


# --- the run -----------------------------------------------------------------------------------


def run(args: argparse.Namespace, results: dict[str, Any]) -> None:
    length = int(args.length_mb * 1_000_000)
    folder, info = cohort(args.samples, args.batches, length, args.seed)
    results["cohort"] = info
    node = WORK / f"node-{args.samples}x{args.batches}"
    say(f"ingesting {args.batches} deliveries into {node} (DuckDB engine)")
    results["batches"] = []
    ingest_all(folder, info, node, results["batches"], probe=not args.no_probe, env={"GENOMENODE_ENGINE": "duckdb"})
    alleles = stored_alleles(node)
    results["engines"] = {}
    for engine in args.engines:
        say(f"queries on {engine}")
        try:
            results["engines"][engine] = measure_engine(node, engine, alleles, length, args.spark_conf)
        except Exception as exc:
            traceback.print_exc()
            results["engines"][engine] = {"error": short_error(exc)}
        say(f"  {json.dumps(summary(results['engines'][engine]))}")
    if "spark" in args.ingest_engines:
        spark: dict[str, Any] = {"batches": [], "conf": args.spark_conf, "master": "local[2]"}
        results["spark_ingest"] = spark
        spark_node = WORK / f"node-{args.samples}x{args.batches}-spark"
        say(f"ingesting {args.batches} deliveries into {spark_node} (Spark engine, local[2])")
        env = {
            "GENOMENODE_ENGINE": "spark",
            "GENOMENODE_SPARK_MASTER": "local[2]",
            "GENOMENODE_SPARK_CONF": json.dumps(args.spark_conf),
        }
        start = 1
        while start <= len(info["deliveries"]):
            try:
                ingest_all(folder, info, spark_node, spark["batches"], probe=False, env=env, start=start)
                break
            except Exception as exc:  # the DuckDB numbers stand; the section says where Spark failed
                traceback.print_exc()
                start = len(spark["batches"]) + 1
                conf = json.loads(env["GENOMENODE_SPARK_CONF"])
                if BROADCAST in conf:
                    spark["error"] = short_error(exc)
                    break
                # a failed ingest leaves the node as it was: that delivery again, without broadcast joins
                spark["fallback"] = {"at": start, "error": short_error(exc), "conf": {BROADCAST: "-1"}}
                env["GENOMENODE_SPARK_CONF"] = json.dumps({**conf, BROADCAST: "-1"})
                say(f"  again from delivery {start} with {BROADCAST}=-1")


def summary(e: dict[str, Any]) -> dict[str, Any]:
    if "lookup_s" not in e:
        return e
    return {
        "lookup_p50_ms": round(pct(e["lookup_s"], 0.5) * 1e3, 2),
        "region_p50_s": round(pct(e["region_s"], 0.5), 3),
        "stats": e.get("stats"),
    }


# --- 4. the section ----------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def _cause(error: str) -> str:
    """A JVM error's cause, its first sentence: what a table cell has room for."""
    cause = error.split("Caused by:", 1)[-1].strip().split(". ")[0]
    return cause.removeprefix("org.apache.spark.")


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f}"


def _stage(row: dict[str, Any], name: str) -> float:
    return float(row["stages"].get(name, {}).get("wall", 0.0))


def _written(row: dict[str, Any]) -> str:
    st = row["store"]
    own = Counter(w["table"] for w in st["written"] if w["table"] != "variant_stats")
    own_bytes = sum(w["bytes"] for w in st["written"] if w["table"] != "variant_stats")
    pieces = max(own.values()) if own else 0
    stats = [w for w in st["written"] if w["table"] == "variant_stats"]
    text = f"own parts: {sum(own.values())} ({pieces} per table × {len(own)} tables), {_mb(own_bytes)} MB"
    if stats:
        text += f"; variant_stats/{CHROM} rewritten whole ({_mb(sum(w['bytes'] for w in stats))} MB"
        replaced = [s for s in st["superseded"] if s["table"] == "variant_stats"]
        text += f", superseding {len(replaced)} part)" if replaced else ", the first)"
    others = [s for s in st["superseded"] if s["table"] != "variant_stats"]
    if others:
        text += f"; **{len(others)} other parts superseded**"
    return text


def growth(batches: list[dict[str, Any]]) -> list[str]:
    """What grew from the first delivery to the last, in sentences. Judged on CPU seconds: wall time
    on this shared machine also measures the other work running beside it (the load column)."""
    if len(batches) < 2:
        return []
    first, last = batches[0], batches[-1]
    gt = [r["samples"] * r["sites"] for r in batches]
    size0, size1 = (sum(v["bytes"] for v in r["store"]["live"].values()) for r in (first, last))

    def cpu(r: dict[str, Any], name: str) -> float:
        return float(r["stages"].get(name, {}).get("cpu", 0.0))

    def per_gt(r: dict[str, Any], name: str) -> float:  # CPU seconds per 10⁹ genotypes of the delivery
        return cpu(r, name) / (r["samples"] * r["sites"]) * 1e9

    st0, st1 = _stage(first, "statistics"), _stage(last, "statistics")
    sc0, sc1 = cpu(first, "statistics"), cpu(last, "statistics")
    b0, b1 = _stage(first, "build parts"), _stage(last, "build parts")
    rows0, rows1 = (r["store"]["live"].get("site_counts", {}).get("rows", 0) for r in (first, last))
    slope = float(np.polyfit([r["batch"] for r in batches], [cpu(r, "statistics") for r in batches], 1)[0])
    return [
        f"- New data per delivery: {min(gt) / 1e6:,.1f}-{max(gt) / 1e6:,.1f} M genotypes (samples × records), "
        f"i.e. flat; store (live) after delivery 1: {_mb(size0)} MB, after delivery {last['batch']}: {_mb(size1)} MB.",
        f"- Building the delivery's own parts: {per_gt(first, 'build parts'):.0f} → "
        f"{per_gt(last, 'build parts'):.0f} CPU s per 10⁹ genotypes, i.e. {1e3 / per_gt(first, 'build parts'):.2f} → "
        f"{1e3 / per_gt(last, 'build parts'):.2f} M genotypes per CPU second, the build workers included "
        f"(wall {b0:.1f} s → {b1:.1f} s): "
        + (
            "flat per genotype: this stage grows with the new data only."
            if per_gt(last, "build parts") <= 1.3 * per_gt(first, "build parts")
            else "**it grows faster than the new data**."
        ),
        f"- The statistics recompute (`pipeline/restats.py`: `compute_stats` over every live site_counts, coverage "
        f"and variants part of {CHROM}, then the whole variant_stats part of the chromosome written again): "
        f"{sc0:.1f} → {sc1:.1f} CPU s (×{sc1 / sc0 if sc0 else float('nan'):.1f}; wall {st0:.1f} s → {st1:.1f} s, "
        f"{st0 / first['wall'] * 100:.0f}% → {st1 / last['wall'] * 100:.0f}% of the ingest's wall time) while the "
        f"site_counts rows it reads grew {rows0 / 1e6:.2f} M → {rows1 / 1e6:.2f} M: "
        + (
            "**this stage grows with the size of the store, not with the new data**."
            if sc0 and sc1 > 1.5 * sc0
            else "roughly flat at this size."
        ),
        f"- Per delivery already stored, the recompute costs {slope:.1f} CPU s more (least-squares slope over the "
        f"{len(batches)} deliveries; {sc0 / rows0 * 1e6:.1f} → {sc1 / rows1 * 1e6:.1f} CPU s per million site_counts "
        "rows): it reads everything stored for the chromosome, so one ingest costs in proportion to the store, and "
        "N deliveries cost ~N²/2 times the first one's recompute in all.",
        f"- The whole process: {first['cpu']:.1f} → {last['cpu']:.1f} CPU s, max RSS {first['rss_mb']:,.0f} → "
        f"{last['rss_mb']:,.0f} MB"
        + (
            f" (Python; the JVM {first['jvm_rss_mb']:,.0f} → {last['jvm_rss_mb']:,.0f} MB)"
            if last.get("jvm_rss_mb")
            else ""
        )
        + f"; everything but the statistics: {first['cpu'] - sc0:.1f} → {last['cpu'] - sc1:.1f} CPU s.",
    ]


def code_runs(batches: list[dict[str, Any]], engines: dict[str, Any]) -> str:
    """Which deliveries and engines ran which version of the code, e.g. "deliveries 1-6 a1b2c3d4, 7-10 …"."""
    spans: list[list[Any]] = []  # [version, first, last]
    for b in batches:
        if spans and spans[-1][0] == b.get("code"):
            spans[-1][2] = b["batch"]
        else:
            spans.append([b.get("code"), b["batch"], b["batch"]])
    parts = [f"{first}-{last} {v}" if first != last else f"{first} {v}" for v, first, last in spans]
    text = "deliveries " + ", ".join(parts) if parts else ""
    return "; ".join([text, *(f"{name} queries {e.get('code')}" for name, e in engines.items() if e.get("code"))])


def section(r: dict[str, Any]) -> str:
    s = r["settings"]
    c = r.get("cohort")
    batches: list[dict[str, Any]] = r.get("batches") or []
    engines: dict[str, Any] = r.get("engines") or {}
    if s.get("snapshot"):
        provenance = (
            f"Written by `benchmarks/scale.py` (`make scale-benchmark`), one run on {s['when']} of commit "
            f"{s['commit']}: a snapshot of its src/ (`git archive`) was imported, so the shared tree's work in "
            "progress was not measured"
            + (f" (uncommitted then: {', '.join(s['uncommitted'])})" if s["uncommitted"] else "")
            + "."
        )
    else:
        provenance = (
            f"Written by `benchmarks/scale.py --tree`, one run on {s['when']} at commit {s['commit']}"
            + (f" (HEAD was {s['commit_end']} by the end)" if s["commit_end"] != s["commit"] else "")
            + (
                f"; src/genomenode had uncommitted changes by other work in the shared tree "
                f"({', '.join(s['uncommitted'])})"
                if s["uncommitted"]
                else ""
            )
            + "."
        )
    versions = [b.get("code") for b in batches] + [e.get("code") for e in engines.values()]
    if s.get("changed_during") or len({v for v in versions if v}) > 1:
        provenance += (
            " **The code changed while it ran** (other work in the shared tree"
            + (f": {', '.join(s['changed_during'])}" if s.get("changed_during") else "")
            + f"); fingerprints of src/genomenode: {code_runs(batches, engines)}."
        )
    load = s["load"]
    lines = [
        SECTION,
        "",
        *textwrap.wrap(provenance, 110, break_on_hyphens=False),
        "",
        f"- Machine: {s['machine']}. Load average {load[0]:.2f} at the start and {load[1]:.2f} at the end (the "
        "cores are shared with other work, so these times are upper bounds of a quiet machine's; each delivery's "
        "row gives the load when it started).",
    ]
    if c:
        n, length = c["samples"], c["length"]
        pops = ", ".join(f"{p} {v:,}" for p, v in c["populations"].items())
        d_sites = [d["sites"] for d in c["deliveries"]]
        vcf_bytes = sum(d["bytes"] for d in c["deliveries"])
        lines += [
            f"- Cohort: {n:,} people simulated with msprime (`make_vcf.simulate_cohort`: the package's out-of-Africa "
            f"demography with recent growth, `simulate/demography.py`; mutation 1.29e-8, recombination 1e-8 per bp; "
            f"seed {c['seed']}) on GRCh38 {c['chrom']}:{c['start']:,}-{c['start'] + length - 1:,} "
            f"({length / 1e6:g} Mb): {c['sites']:,} biallelic sites, {c['singletons'] / c['segregating'] * 100:.0f}% "
            f"singletons, {c['rare'] / c['segregating'] * 100:.0f}% below 1% frequency. Populations: {pops}. "
            f"Simulated in {c['simulate_seconds']:.0f} s, VCFs written in {c['write_seconds'] / 60:.1f} min.",
            f"- Deliveries: {c['batches']} VCFs of {n // c['batches']:,} people, one regional centre each (the "
            "demo's five centres in turn, each with its population mix), FORMAT GT:DP:GQ:AD, bgzipped and "
            f"tabix-indexed ({vcf_bytes / 1e9:.2f} GB in all), with a sample sheet (sex, population, centre, consent). "
            f"Each holds only the sites where one of its own people carries an ALT, as a centre's variant-only VCF "
            f"would: {min(d_sites):,}-{max(d_sites):,} records each (of {c['sites']:,}); hom-ref elsewhere on the "
            "chromosome comes from the file's coverage.",
        ]
    lines += [
        "- Ingest: each delivery is one `genomenode ingest FILE --dataset national --centre C --samples SHEET` "
        "process into the same node (SQLite catalog, local disk), under `/usr/bin/time -v`. CPU = user + system "
        "seconds of the process and its build workers; genotypes/s/core = people in the delivery × records in its "
        "VCF ÷ CPU seconds. Stage times come from timers the benchmark wraps around the pipeline's functions in "
        "that process (`scale.py timed-cli`; the code is unchanged).",
    ]
    if batches:
        lines += [
            "",
            "| delivery | centre | people so far | records | wall s | CPU s | genotypes/s/core | max RSS MB | "
            "store MB after (live) | written | load |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for b in batches:
            live = sum(v["bytes"] for v in b["store"]["live"].values())
            gps = b["samples"] * b["sites"] / b["cpu"] if b["cpu"] else float("nan")
            lines.append(
                f"| {b['batch']} | {b['centre']} | {b['samples_so_far']:,} | {b['sites']:,} | {b['wall']:.1f} | "
                f"{b['cpu']:.1f} | {gps / 1e6:,.2f} M | {b['rss_mb']:,.0f} | {_mb(live)} | {_written(b)} | "
                f"{b['load']:.1f} |"
            )
        lines += [
            "",
            "Where each delivery's wall time went (seconds; `statistics` includes its query and its write, and its CPU "
            "seconds, the fairer measure on a loaded machine, are in brackets):",
            "",
            "| delivery | start-up + imports | checksum | build parts | statistics (CPU s) | of which query | "
            "of which write | "
            "archive | catalog rows | rest | site_counts rows the statistics read | lookup p50 after | "
            "1 Mb region p50 after |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for b in batches:
            named = ("checksum", "build parts", "statistics", "archive", "catalog rows")
            inside = _stage(b, "ingest()")
            rest = inside - sum(_stage(b, n) for n in named)
            startup = b["wall"] - inside
            p = b.get("probe") or {}
            lines.append(
                f"| {b['batch']} | {startup:.1f} | {_stage(b, 'checksum'):.1f} | {_stage(b, 'build parts'):.1f} | "
                f"{_stage(b, 'statistics'):.1f} ({b['stages'].get('statistics', {}).get('cpu', 0.0):.1f}) | "
                f"{_stage(b, 'statistics: query'):.1f} | "
                f"{_stage(b, 'statistics: write'):.1f} | {_stage(b, 'archive'):.1f} | "
                f"{_stage(b, 'catalog rows'):.1f} | {rest:.1f} | "
                f"{b['store']['live'].get('site_counts', {}).get('rows', 0) / 1e6:,.2f} M | "
                + (f"{_ms(p['lookup_p50'])} | {_ms(p['region_p50'])} ({p['region_rows']:,} rows) |" if p else "— | — |")
            )
        lines += [
            "",
            "- start-up + imports: the process's wall time outside `ingest()` (Python, imports, access check, "
            "the CLI's output); rest: inside `ingest()` but in no named stage (the write lock, sweeping orphans, "
            "reading the header and sample sheet, catalog reads, the pseudonym key and audit entry, the catalog "
            "transaction's commit). The probes after each delivery: "
            f"{PROBE_LOOKUPS} lookups and {PROBE_REGIONS} random 1 Mb regions, DuckDB, warm.",
            *growth(batches),
        ]
        last = batches[-1]
        live = last["store"]["live"]
        total = sum(v["bytes"] for v in live.values())
        people = last["samples_so_far"]
        mb = c["length"] / 1e6
        calls = live.get("calls", {}).get("rows", 0)
        lines += [
            "",
            f"Store after {len(batches)} deliveries ({people:,} people): {_mb(total)} MB live, "
            f"**{total / people / 1e3:,.1f} kB per genome** over this {mb:g} Mb, "
            f"{total / people / mb / 1e3:,.2f} kB per genome per Mb (the bgzipped VCFs: "
            f"{sum(d['bytes'] for d in c['deliveries']) / people / 1e3:,.1f} kB per genome; the Crypt4GH archive "
            f"of them, kept beside the store: {last['store']['archive_bytes'] / people / 1e3:,.1f} kB per genome). "
            f"Each person carries {calls / people / mb:,.0f} ALT alleles per Mb here (calls rows ÷ people ÷ Mb; "
            "a real WGS has ~1,450: 4.5 M variant sites over 3,100 Mb).",
            "",
            "| table | parts | rows | MB | bytes per genome | share |",
            "|---|---|---|---|---|---|",
        ]
        for t in STORE_TABLES:
            v = live.get(t, {"parts": 0, "rows": 0, "bytes": 0})
            lines.append(
                f"| {t} | {v['parts']} | {v['rows']:,} | {_mb(v['bytes'])} | {v['bytes'] / people:,.0f} | "
                f"{v['bytes'] / total * 100:.0f}% |"
            )
    spark = r.get("spark_ingest")
    if spark:
        lines += spark_lines(spark, batches)
    if engines:
        lines += [
            "",
            f"Queries after the last delivery, warm, in process (`NodeQueries`): {LOOKUPS} single-variant lookups of "
            f"random stored alleles (`q.variant`), {REGIONS} random 1 Mb regions (`q.frequencies(region=...)`, "
            "exact counts, every stratum), and the full statistics recompute of the chromosome (`compute_stats` "
            "over all live parts, run twice; nothing written).",
            "",
            "| engine | open + first lookup | first 1 Mb region | lookup p50 / p95 "
            "| 1 Mb region p50 / p95 (median rows) | statistics recompute, wall (CPU) |",
            "|---|---|---|---|---|---|",
        ]
        for name, e in engines.items():
            if "lookup_s" not in e:
                why = e.get("skipped") or e.get("error") or "not measured"
                lines.append(f"| {name} | {why} | | | | |")
                continue
            st = e.get("stats") or {}
            stats = (
                ", ".join(f"{x['wall']:.1f} s ({x['cpu']:.1f} s)" for x in st["runs"])
                + f"; {st['rows']:,} rows, {st['groups']} call groups"
                if "runs" in st
                else st.get("error", "—")
            )
            if st.get("failed_first"):
                stats = f"failed first ({_cause(st['failed_first'])}); then with {BROADCAST}=-1: {stats}"
            conf = e.get("conf") or {}
            label = name + (
                f" ({', '.join(f'{k}={v}' for k, v in {**conf.get('spark_conf', {})}.items())}, "
                f"{conf.get('spark_master', '')})"
                if name == "spark"
                else ""
            )
            lines.append(
                f"| {label} | {_ms(e['open_s'] + e['first_lookup_s'])} | {_ms(e['first_region_s'])} | "
                f"{_ms(pct(e['lookup_s'], 0.5))} / {_ms(pct(e['lookup_s'], 0.95))} | "
                f"{_ms(pct(e['region_s'], 0.5))} / {_ms(pct(e['region_s'], 0.95))} "
                f"({int(np.median(e['region_rows'])):,}) | {stats} |"
            )
    spark_stats = (engines.get("spark") or {}).get("stats") or {}
    spark_rows = (spark or {}).get("batches") or []
    if spark_stats.get("failed_first") and spark_rows:
        lines += [
            "",
            f"- Spark's recompute in the query process (one long-lived session, after the lookups and region "
            f"queries) failed with Spark's settings above and took ~{spark_stats['runs'][0]['wall'] / 60:.0f} min "
            f"without broadcast joins, while each Spark ingest process (a fresh driver) recomputed the same "
            f"statistics in {_stage(spark_rows[-1], 'statistics'):.0f} s at delivery {spark_rows[-1]['batch']}.",
        ]
    lines += ["", *projection(r)]
    if r["errors"]:
        lines += ["", "**Failures in this run:**", *[f"- {e}" for e in r["errors"]]]
    lines += [
        "",
        "Reproduce: `make scale-benchmark` (the cohort is simulated once into `benchmarks/.work/scale/`; "
        "`--samples N --batches K --length-mb L` for a smaller run, `--engines duckdb,spark`).",
    ]
    return "\n".join(lines) + "\n"


def spark_lines(spark: dict[str, Any], duck: list[dict[str, Any]]) -> list[str]:
    """The same deliveries ingested with GENOMENODE_ENGINE=spark, beside DuckDB's times."""
    conf = ", ".join(f"{k}={v}" for k, v in spark["conf"].items())
    rows: list[dict[str, Any]] = spark["batches"]
    lines = [
        "",
        f"The same deliveries ingested with `GENOMENODE_ENGINE=spark` (`{spark['master']}`, {conf}) into a second "
        "fresh node, one `genomenode ingest` process each, which starts its own Spark driver (JVM):",
        "",
        "| delivery | people so far | wall s (DuckDB's) | CPU s | genotypes/s/core | max RSS MB, Python / JVM | "
        "build parts s | statistics s | store MB after (live) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    fallback = spark.get("fallback") or {}
    for b in rows:
        live = sum(v["bytes"] for v in b["store"]["live"].values())
        gps = b["samples"] * b["sites"] / b["cpu"] if b["cpu"] else float("nan")
        other = next((d["wall"] for d in duck if d["batch"] == b["batch"]), float("nan"))
        mark = "*" if fallback and b["batch"] >= fallback["at"] else ""
        lines.append(
            f"| {b['batch']}{mark} | {b['samples_so_far']:,} | {b['wall']:.1f} ({other:.1f}) | {b['cpu']:.1f} | "
            f"{gps / 1e6:,.2f} M | {b['rss_mb']:,.0f} / {b.get('jvm_rss_mb', 0):,.0f} | "
            f"{_stage(b, 'build parts'):.1f} | {_stage(b, 'statistics'):.1f} | {_mb(live)} |"
        )
    if fallback:
        lines += [
            "",
            f"\\* **Delivery {fallback['at']} failed with the settings above:** {_cause(fallback['error'])}. It was "
            "ingested "
            f"again (a failed ingest leaves the node as it was) with `{BROADCAST}=-1` (no broadcast joins, the "
            "workaround Spark's message names), and so were the deliveries after it.",
        ]
    if spark.get("error"):
        lines += ["", f"**The Spark ingest failed at delivery {len(rows) + 1}:** {spark['error']}"]
    if len(rows) > 1:
        lines += ["", *growth(rows)]
    lines += [
        "",
        "- CPU includes the JVM (read from /proc before the process exits); the JVM's peak RSS is its VmHWM "
        "at the end of the run.",
    ]
    return lines


GENOME_MB = 3_100  # GRCh38's assembled length, Mb
WGS_ALT_PER_MB = 1_450  # ~4.5 M variant sites a person carries over 3,100 Mb


def projection(r: dict[str, Any]) -> list[str]:
    """The projection is written by hand from these numbers, in the section after this one."""
    return ["The projection from these numbers is the next section."]


def publish(results: dict[str, Any], *, write: bool) -> None:
    text = section(results)
    say("\n" + text)
    if write:
        write_section(DOCS, SECTION, text)
        say(f"wrote the section to {DOCS}")


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "timed-cli":
        timed_cli(sys.argv[2], sys.argv[3:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=10_000, help="people in the cohort")
    ap.add_argument("--batches", type=int, default=10, help="deliveries (VCFs) the people are cut into")
    ap.add_argument("--length-mb", type=float, default=10.0, help="Mb of chr22 simulated, from 36,000,001")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--engines", default="duckdb,spark", help="query engines, comma-separated: duckdb, spark")
    ap.add_argument(
        "--ingest-engines",
        default="duckdb,spark",
        help="engines to ingest with (GENOMENODE_ENGINE); DuckDB's node always, Spark's into a second node",
    )
    ap.add_argument(
        "--spark-conf",
        type=json.loads,
        default=SPARK_CONF,
        help=f"Spark settings (JSON) for the spark engine; default {json.dumps(SPARK_CONF)}",
    )
    ap.add_argument(
        "--tree",
        action="store_true",
        help="measure the shared working tree as it is (default: a snapshot of HEAD's src/, uncommitted work left out)",
    )
    ap.add_argument("--no-probe", action="store_true", help="no lookups and region queries after each delivery")
    ap.add_argument("--no-write", action="store_true", help="print the section, leave docs/benchmarks.md alone")
    ap.add_argument("--report-only", action="store_true", help="the section again from the last results JSON")
    ap.add_argument("--results", type=Path, help="with --report-only: this results JSON instead of the last")
    args = ap.parse_args()
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.ingest_engines = [e.strip() for e in args.ingest_engines.split(",") if e.strip()]
    results_file = WORK / f"results-{args.samples}x{args.batches}.json"
    if args.report_only:
        publish(json.loads((args.results or results_file).read_text()), write=not args.no_write)
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    if not args.tree and SNAPSHOT_ENV not in os.environ:
        code = snapshot()
        say(f"measuring a snapshot of HEAD's src/ in {code}")
        env = {
            **os.environ,
            SNAPSHOT_ENV: str(code),
            "PYTHONPATH": os.pathsep.join([str(code / "src"), *_pythonpath()]),
        }
        return subprocess.run([sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]], env=env).returncode
    load_start, began = os.getloadavg()[0], time.time()
    started, dirty = commit(), uncommitted()
    if SNAPSHOT_ENV in os.environ:
        import genomenode

        if not Path(genomenode.__file__).resolve().is_relative_to(Path(os.environ[SNAPSHOT_ENV]).resolve()):
            sys.exit(f"genomenode imported from {genomenode.__file__}, not the snapshot")
        started = Path(os.environ[SNAPSHOT_ENV]).name.removeprefix("code-")[:7]
    results: dict[str, Any] = {"errors": []}
    try:
        run(args, results)
    except Exception as exc:  # the section says the run failed, and how
        traceback.print_exc()
        results["errors"].append(f"{type(exc).__name__}: {exc}")
    results["settings"] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": started,
        "commit_end": started if SNAPSHOT_ENV in os.environ else commit(),
        "snapshot": SNAPSHOT_ENV in os.environ,
        "uncommitted": sorted(set(dirty) | set(uncommitted())),
        "changed_during": changed_since(began),
        "load": [load_start, os.getloadavg()[0]],
        "machine": machine(),
        "args": {k: v for k, v in vars(args).items()},
    }
    results_file.write_text(json.dumps(results, indent=1))
    publish(results, write=not args.no_write and bool(results.get("batches")))
    return 1 if results["errors"] else 0


def _pythonpath() -> list[str]:
    return [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


if __name__ == "__main__":
    raise SystemExit(main())
