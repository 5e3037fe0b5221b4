"""Ingest a regional centre's submission as one transaction: validate → build → write parts → commit.

Order matters for "all or nothing": everything that can be refused (headers, assembly, sample
sheet, duplicate or already-loaded samples) is checked before a byte is written; records are
checked while streaming, and an error then deletes the parts this run wrote. New Parquet parts
become visible only when the catalog transaction that lists them commits, so a kill -9 at any
point leaves the previous state intact (orphan parts are swept under the next write lock).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import func, select

from genomenode.access.audit import AuditEvent, AuditLog
from genomenode.access.crypt import ArchivedFile, archive_file, load_or_create_archive_keys
from genomenode.access.pseudonym import load_or_create_key, pseudonymise
from genomenode.catalog import models as m
from genomenode.catalog import phenotypes, sharing
from genomenode.catalog import repository as repo
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.domain.assembly import Assembly, assembly_evidence, resolve_assembly
from genomenode.domain.consequence import annotation_fields
from genomenode.domain.samples import SampleRecord
from genomenode.errors import (
    DuplicateSampleError,
    GenomenodeError,
    InputError,
    VcfFormatError,
    listing,
)
from genomenode.ingest.build import BuildReport, FileBuilder, FileLayout
from genomenode.ingest.reference import ReferenceGenome
from genomenode.ingest.regions import Intervals, read_bed, sibling_bed
from genomenode.ingest.samplesheet import check_sheet_used, default_records, match_sheet_to_vcf, read_sample_sheet
from genomenode.ingest.vcf import VcfHeader, check_columns, indexed_spans, iter_records, read_header, split_spans
from genomenode.pipeline.archive_sweep import sweep_archive
from genomenode.pipeline.restats import file_id_of, recompute_stats, store_file_rows
from genomenode.settings import Settings
from genomenode.store.engine import StoreEngine, open_engine
from genomenode.store.hpo import hpo_path, load_hpo
from genomenode.store.lock import write_lock
from genomenode.store.parquet import PartInfo, annotation_metadata, collect_garbage, write_part

Progress = Callable[[str, int, int | None], None]
GRACE_SECONDS = 600.0  # superseded parts stay readable this long for queries already running


@dataclass(frozen=True)
class IngestRequest:
    files: Sequence[Path]
    dataset: str
    centre: str
    sample_sheet: Path | None = None
    reference: Path | None = None
    assembly: Assembly | None = None
    replace: bool = False
    callable_regions: Path | None = None  # BED for every file; else a sibling <file>.callable.bed
    command: str = ""
    actor: str = "local"  # who submits, as the audit log names them
    role: str = "admin"


@dataclass
class FileOutcome:
    path: Path
    status: str  # "ingested" | "unchanged"
    samples: int = 0
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestResult:
    run_id: int | None
    dataset: str
    assembly: str
    files: list[FileOutcome]
    samples: int
    alleles: int
    seconds: float

    @property
    def changed(self) -> bool:
        return self.run_id is not None


@dataclass
class _Planned:
    path: Path
    header: VcfHeader
    sha256: str
    samples: list[SampleRecord]
    file_id: int = 0
    sample_ids: list[int] = field(default_factory=list)
    groups: list[tuple[int, str, str, str, int]] = field(default_factory=list)  # id, pop, sex, centre, n
    group_of_sample: list[int] = field(default_factory=list)
    report: BuildReport | None = None
    callable: Intervals | None = None


def _checkpoint(stage: str) -> None:
    """Fault injection for the crash tests: GENOMENODE_TEST_PAUSE_AT=<stage> sleeps there."""
    if os.environ.get("GENOMENODE_TEST_PAUSE_AT") == stage:
        print(f"paused at {stage}", flush=True)
        time.sleep(float(os.environ.get("GENOMENODE_TEST_PAUSE_SECONDS", "30")))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest(settings: Settings, request: IngestRequest, *, progress: Progress | None = None) -> IngestResult:
    started = time.monotonic()
    report = progress or (lambda stage, done, total: None)
    if not request.files:
        raise InputError("no files given; name one or more VCF/BCF files to ingest")
    with write_lock(settings.data_dir, timeout=5.0):
        engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
        try:
            return _ingest_locked(settings, request, engine, report, started)
        finally:
            engine.dispose()


def _ingest_locked(
    settings: Settings, request: IngestRequest, engine: Any, report: Progress, started: float
) -> IngestResult:
    Session = session_factory(engine)
    root = settings.store_root
    with Session() as session:
        _sweep(root, session)
        sweep_archive(settings.archive_root, sharing.archived_sizes(session))
        dataset = repo.get_dataset(session, request.dataset)
        dataset_assembly = Assembly(dataset.assembly) if dataset else None
        dataset_id = dataset.id if dataset else None

        # 1. Validate every input before writing anything.
        sheet: dict[str, SampleRecord] | None = None
        if request.sample_sheet is not None:
            records = read_sample_sheet(request.sample_sheet, default_centre=request.centre, resolve_hpo=_resolve_hpo)
            sheet = {r.sample_id: r for r in records}
        plans: list[_Planned] = []
        unchanged: list[FileOutcome] = []
        assembly: Assembly | None = request.assembly or dataset_assembly
        seen_samples: dict[str, Path] = {}
        seen_checksums: dict[str, Path] = {}
        for path in request.files:
            report(f"checking {path.name}", 0, None)
            header = read_header(path)
            checksum = sha256_of(path)
            if checksum in seen_checksums:
                raise InputError(f"{path}: same content as {seen_checksums[checksum]} in this submission; send it once")
            seen_checksums[checksum] = path
            if dataset_id is not None and repo.find_file_by_checksum(session, dataset_id=dataset_id, sha256=checksum):
                unchanged.append(FileOutcome(path, "unchanged"))
                continue
            file_assembly = resolve_assembly(
                assembly_evidence(header.contigs), given=request.assembly, dataset=assembly, source=str(path)
            )
            assembly = assembly or file_assembly
            if not header.samples:
                raise InputError(
                    f"{path}: no samples in the #CHROM line; genomenode stores genotypes, not sites-only VCFs"
                )
            for s in header.samples:
                if s in seen_samples:
                    raise DuplicateSampleError(
                        f"{path}: sample {s!r} is also in {seen_samples[s]}; each sample must come in one file"
                    )
                seen_samples[s] = path
            if sheet is not None:
                samples = match_sheet_to_vcf(sheet, header.samples, vcf=path, sheet_path=request.sample_sheet or path)
            else:
                samples = default_records(header.samples, centre=request.centre)
            bed = request.callable_regions or sibling_bed(path)
            plans.append(_Planned(path, header, checksum, samples, callable=read_bed(bed) if bed else None))
        _refuse_erased(session, settings, plans)
        if sheet is not None and request.sample_sheet is not None:
            listed = set(seen_samples) | {s for o in unchanged for s in read_header(o.path).samples}
            check_sheet_used(sheet, listed, sheet_path=request.sample_sheet)
        if not plans:
            return IngestResult(
                None,
                request.dataset,
                (assembly or Assembly.GRCh38).value,
                unchanged,
                0,
                0,
                time.monotonic() - started,
            )
        assert assembly is not None
        replaced_files = _check_already_loaded(
            session, dataset_id, plans, replace=request.replace, dataset=request.dataset
        )
        replaced_chroms = {
            f.chrom
            for f in repo.live_store_files(session, table_name="site_counts", assembly=assembly.value)
            if file_id_of(f.path) in replaced_files
        }

    # 2. Issue ids. We hold the write lock, so max(id) + 1 is ours alone and nothing is written
    #    before the commit; a crashed run's ids are simply issued again.
    with Session() as session:
        run_id = _next_id(session, m.IngestRun)
        next_file = _next_id(session, m.VcfFile)
        next_sample = _next_id(session, m.Sample)
        next_group = _next_id(session, m.CallGroup)
    for plan in plans:
        plan.file_id, next_file = next_file, next_file + 1
        plan.sample_ids = list(range(next_sample, next_sample + len(plan.samples)))
        next_sample += len(plan.samples)
        strata: dict[tuple[str, str, str], list[int]] = {}
        for i, rec in enumerate(plan.samples):
            strata.setdefault((rec.population, rec.sex.value, rec.centre), []).append(i)
        plan.group_of_sample = [0] * len(plan.samples)
        for gi, ((pop, sex, centre), members) in enumerate(sorted(strata.items())):
            plan.groups.append((next_group + gi, pop, sex, centre, len(members)))
            for i in members:
                plan.group_of_sample[i] = gi
        next_group += len(strata)

    # 3. Build and write this run's parts; on any error remove them and re-raise.
    written: list[PartInfo] = []
    archived: dict[int, ArchivedFile] = {}
    if request.reference is not None:
        ReferenceGenome(request.reference).close()  # refuse an unreadable FASTA before any work
    try:
        if settings.engine == "spark":
            _build_files_on_spark(settings, plans, assembly, run_id, request.reference, report, written)
        else:
            for plan in plans:
                _build_file(
                    root,
                    plan,
                    assembly,
                    run_id,
                    request.reference,
                    report,
                    written,
                    settings.ingest_workers,
                    settings.parallel_min_bytes,
                )
        _checkpoint("after_parts")
        touched = sorted({p.chrom for p in written} | replaced_chroms)
        with Session() as session:
            new_groups = [
                {
                    "group_id": g[0],
                    "dataset": request.dataset,
                    "population": g[1],
                    "sex": g[2],
                    "centre": g[3],
                }
                for p in plans
                for g in p.groups
            ]
            stats_parts, superseded = recompute_stats(
                root,
                session,
                assembly,
                touched,
                written,
                new_groups,
                run_id,
                replaced_files,
                report,
                engine=_cluster_engine(settings),
            )
        written += stats_parts
        archived.update(_archive(settings, plans, report))
        _checkpoint("before_commit")
        key = load_or_create_key(settings.pseudonym_key_path)
        AuditLog(settings.audit_log_path, enabled=settings.audit_enabled).append(
            AuditEvent(
                action="ingest",
                actor=request.actor,
                role=request.role,
                target=request.dataset,
                outcome="done",
                details={
                    "run": run_id,
                    "centre": request.centre,
                    "files": len(plans),
                    "samples": sum(len(p.samples) for p in plans),
                },
            )
        )
        # 4. The commit point: one catalog transaction names every new part.
        with Session() as session, session.begin():
            _commit_catalog(session, request, assembly, run_id, plans, written, superseded, replaced_files, key)
            for file_id, a in archived.items():
                session.add(
                    m.ArchivedFile(
                        file_id=file_id,
                        path=str(a.path.relative_to(settings.archive_root)),
                        plaintext_sha256=a.plaintext_sha256,
                        encrypted_bytes=a.encrypted_bytes,
                    )
                )
        _checkpoint("after_commit")
    except BaseException:
        for part in written:
            (root / part.path).unlink(missing_ok=True)
        for a in archived.values():
            a.path.unlink(missing_ok=True)
        raise
    outcomes = [FileOutcome(p.path, "ingested", len(p.samples), p.report.as_dict() if p.report else {}) for p in plans]
    return IngestResult(
        run_id,
        request.dataset,
        assembly.value,
        outcomes + unchanged,
        samples=sum(len(p.samples) for p in plans),
        alleles=sum(p.report.alleles for p in plans if p.report),
        seconds=time.monotonic() - started,
    )


def _resolve_hpo(term: str) -> str:
    """A sheet's HPO id as the current term; the ontology table is read only if a sheet names one."""
    hpo = load_hpo(hpo_path())
    primary = hpo.resolve(term)
    if primary is None:
        raise LookupError(hpo.problem(term))
    return primary


def _refuse_erased(session: Any, settings: Settings, plans: list[_Planned]) -> None:
    """A person erased at their request is not taken back by a later submission."""
    if not plans or not settings.pseudonym_key_path.exists():
        return  # no key yet: nobody was ever pseudonymised here, so nobody was erased (and no key is made)
    key = load_or_create_key(settings.pseudonym_key_path)
    for plan in plans:
        by_pseudonym = {pseudonymise(key, rec.subject_id): rec.sample_id for rec in plan.samples}
        erased = sharing.erased_among(session, by_pseudonym)
        if erased:
            names = sorted(by_pseudonym[p] for p in erased)
            raise InputError(
                f"{plan.path}: sample(s) {listing(names)} belong to a person erased from the node at their "
                "request; remove them from the file and the sample sheet (bcftools view -s ^SAMPLE) and submit again"
            )


def _archive(settings: Settings, plans: list[_Planned], report: Progress) -> dict[int, ArchivedFile]:
    """Keep each submitted file as it came, Crypt4GH-encrypted under the node's archive key.

    Written before the commit like the parts, and removed with them if the run fails; an
    archive file no catalog row names is an orphan, never a half-visible submission.
    """
    keys = load_or_create_archive_keys(*settings.crypt4gh_key_paths)
    out: dict[int, ArchivedFile] = {}
    try:
        for plan in plans:
            report(f"archiving {plan.path.name}", 0, None)
            dest = settings.archive_root / f"{plan.file_id:08d}-{plan.sha256[:16]}{_suffix(plan.path)}.c4gh"
            out[plan.file_id] = archive_file(plan.path, dest, keys, replace=True)
            if out[plan.file_id].plaintext_sha256 != plan.sha256:
                raise InputError(f"{plan.path} changed while it was being ingested; send it again")
    except BaseException:
        for a in out.values():
            a.path.unlink(missing_ok=True)
        raise
    return out


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return next((s for s in (".g.vcf.gz", ".vcf.gz", ".vcf.bgz", ".vcf", ".bcf") if name.endswith(s)), "")


def _next_id(session: Any, model: Any) -> int:
    return int(session.scalar(select(func.max(model.id))) or 0) + 1


def _sweep(root: Path, session: Any) -> None:
    """Remove orphans of killed runs, and superseded parts past their grace period."""
    keep = repo.all_store_paths(session)
    old = [f.path for f in repo.removed_store_files(session, before=_now_minus(GRACE_SECONDS))]
    collect_garbage(root, keep=keep, delete=old)


def _now_minus(seconds: float) -> datetime:
    return datetime.fromtimestamp(time.time() - seconds, tz=UTC)


def _check_already_loaded(
    session: Any, dataset_id: int | None, plans: list[_Planned], *, replace: bool, dataset: str
) -> set[int]:
    """Samples already in the dataset are refused, or with --replace their old files are superseded."""
    if dataset_id is None:
        return set()
    ids = [s.sample_id for p in plans for s in p.samples]
    existing = repo.active_samples(session, dataset_id=dataset_id, sample_ids=ids)
    if not existing:
        return set()
    if not replace:
        loaded = {s.sample_id for s in existing}
        culprits = ", ".join(str(p.path) for p in plans if any(s.sample_id in loaded for s in p.samples))
        raise DuplicateSampleError(
            f"{culprits}: {len(existing)} sample(s) already loaded in dataset {dataset} "
            f"({listing(sorted(loaded))}); pass --replace to supersede them"
        )
    files = {s.file_id for s in existing}
    incoming = set(ids)
    for fid in files:
        others = [s.sample_id for s in repo.active_samples_of_file(session, file_id=fid) if s.sample_id not in incoming]
        if others:
            raise DuplicateSampleError(
                f"--replace would drop {len(others)} other sample(s) ({', '.join(others[:5])}) loaded from the same "
                "file; resubmit them together with the replaced samples"
            )
    return files


def _build_file(
    root: Path,
    plan: _Planned,
    assembly: Assembly,
    run_id: int,
    reference: Path | None,
    report: Progress,
    parts: list[PartInfo],
    workers: int,
    min_bytes: int,
) -> None:
    """Stream one file into its parts, appending each to `parts` the moment it exists.

    A large indexed file is cut by position into one piece per worker process (each parses only
    its own records); every other file is read whole here.
    """
    base = f"{run_id:08d}-{plan.file_id:08d}"
    pieces = _pieces(plan, workers, min_bytes)
    jobs = [
        _Job(root, plan, assembly, reference, f"{base}-{i}" if len(pieces) > 1 else base, piece)
        for i, piece in enumerate(pieces)
    ]
    report(f"reading {plan.path.name}", 0, None)
    # Fork the workers before any thread of ours exists: a child forked mid-lock can deadlock.
    workers_pool = (
        ProcessPoolExecutor(max_workers=len(jobs), mp_context=multiprocessing.get_context("fork"))
        if len(jobs) > 1
        else None
    )
    futures = [workers_pool.submit(_build_piece, job) for job in jobs] if workers_pool else []
    with ThreadPoolExecutor(max_workers=1) as pool:
        # htslib drops extra sample columns silently; a text scan on the other core catches them
        columns = pool.submit(check_columns, plan.path, plan.header.n_samples)
        try:
            if workers_pool is None:
                reports = [_build_piece(jobs[0], parts)[1]]
            else:
                results = [f.result() for f in futures]
                for piece_parts, _ in results:
                    parts += piece_parts
                reports = [r for _, r in results]
        except BaseException:
            if workers_pool is not None:  # stop the other workers before sweeping what they wrote
                workers_pool.shutdown(wait=True, cancel_futures=True)
            for stray in root.glob(f"*/*/*/part-{base}-*.parquet"):  # parts a failed worker wrote
                stray.unlink(missing_ok=True)
            raise
        finally:
            if workers_pool is not None:
                workers_pool.shutdown(wait=True, cancel_futures=True)
        problem = columns.result()
    _file_built(plan, reports, problem)
    records = plan.report.records if plan.report else 0
    report(f"reading {plan.path.name}", records, records)


def _cluster_engine(settings: Settings) -> StoreEngine | None:
    """Spark's engine when the node runs on Spark; None: an embedded DuckDB per chromosome."""
    if settings.engine != "spark":
        return None
    return open_engine("spark", spark_master=settings.spark_master, spark_conf=settings.spark_conf)


def _file_built(plan: _Planned, reports: list[BuildReport], problem: str | None) -> None:
    """A file's pieces are built: refuse it if its columns were wrong or it had nothing to store."""
    if problem:
        raise VcfFormatError(problem)
    plan.report = BuildReport.merge(reports)
    if plan.report.alleles == 0 and plan.report.reference_blocks == 0:
        raise InputError(f"{plan.path}: no records on chr1..chr22, chrX, chrY or chrM; nothing to ingest")


@dataclass(frozen=True)
class _SparkTask:
    """One Spark task: build a piece of file `plan` (`job`), or scan its columns (`job` None)."""

    plan: int
    job: _Job | None
    path: Path
    n_samples: int


def _run_spark_task(task: _SparkTask) -> tuple[list[PartInfo], BuildReport | None, str | None]:
    """On an executor: the parts written and the report, or the column problem found."""
    if task.job is None:
        return [], None, check_columns(task.path, task.n_samples)
    parts: list[PartInfo] = []
    try:
        _, built = _build_piece(task.job, parts)
    except BaseException:
        for part in parts:  # this task's own parts; the driver removes the other tasks'
            (task.job.root / part.path).unlink(missing_ok=True)
        raise
    return parts, built, None


def _build_files_on_spark(
    settings: Settings,
    plans: list[_Planned],
    assembly: Assembly,
    run_id: int,
    reference: Path | None,
    report: Progress,
    parts: list[PartInfo],
) -> None:
    """Every file of the submission built at once on the Spark cluster: one task per file, or per
    stretch of positions of a large indexed file, one per core, and one column scan per file.
    Executors write parts to the shared store; the driver commits them (or removes them all)."""
    from genomenode.store.spark import run_tasks, spark_session

    spark = spark_session(settings.spark_master, settings.spark_conf)
    slots = spark.sparkContext.defaultParallelism
    tasks: list[_SparkTask] = []
    for index, plan in enumerate(plans):
        base = f"{run_id:08d}-{plan.file_id:08d}"
        pieces = _pieces(plan, slots, settings.parallel_min_bytes)
        for i, piece in enumerate(pieces):
            name = f"{base}-{i}" if len(pieces) > 1 else base
            job = _Job(settings.store_root, plan, assembly, reference, name, piece)
            tasks.append(_SparkTask(index, job, plan.path, plan.header.n_samples))
        tasks.append(_SparkTask(index, None, plan.path, plan.header.n_samples))
    report("building parts on Spark", 0, len(tasks))
    outcomes = run_tasks(spark, _run_spark_task, tasks)
    for result, _ in outcomes:
        if result is not None:
            parts += result[0]  # recorded first, so a failure anywhere removes every task's parts
    for _, error in outcomes:
        if error is not None:
            raise error
    report("building parts on Spark", len(tasks), len(tasks))
    for index, plan in enumerate(plans):
        mine = [result for task, (result, _) in zip(tasks, outcomes, strict=True) if task.plan == index and result]
        problems = [problem for _, _, problem in mine if problem]
        _file_built(plan, [built for _, built, _ in mine if built is not None], problems[0] if problems else None)


def _pieces(plan: _Planned, workers: int, min_bytes: int) -> list[list[tuple[str, int, int]] | None]:
    """Each worker's regions: every contig's data span cut into `workers` equal stretches."""
    if workers < 2 or plan.path.stat().st_size < min_bytes:
        return [None]
    spans = indexed_spans(plan.path, plan.header)
    if not spans:
        return [None]
    return list(split_spans(spans, workers)) or [None]


@dataclass(frozen=True)
class _Job:
    root: Path
    plan: _Planned
    assembly: Assembly
    reference: Path | None
    name: str
    regions: list[tuple[str, int, int]] | None


def _build_piece(job: _Job, parts: list[PartInfo] | None = None) -> tuple[list[PartInfo], BuildReport]:
    """Build one piece's parts (in this process, or in a worker: everything here is picklable)."""
    plan = job.plan
    layout = FileLayout(
        file_id=plan.file_id,
        assembly=job.assembly,
        sample_ids=np.asarray(plan.sample_ids, np.int32),
        group_of_sample=np.asarray(plan.group_of_sample, np.int32),
        group_ids=np.asarray([g[0] for g in plan.groups], np.int32),
        sexes=[s.sex for s in plan.samples],
        callable_regions=plan.callable,
    )
    out = parts if parts is not None else []
    reference = ReferenceGenome(job.reference) if job.reference else None
    # what the file's CSQ/BCSQ/ANN values mean travels with its alleles (Beacon's aminoacidChange reads it)
    annotations = annotation_metadata(annotation_fields(plan.header.info_descriptions))
    try:
        builder = FileBuilder(plan.header, layout, fetch=reference.fetch if reference else None)
        for tables in builder.build(iter_records(plan.path, plan.header, regions=job.regions)):
            for table in ("variants", "calls", "site_counts", "coverage"):
                data: pa.Table = getattr(tables, table)
                # recorded as soon as it exists, so a failure later in this file still removes it
                out.append(
                    write_part(
                        job.root,
                        table=table,
                        assembly=job.assembly.value,
                        chrom=tables.chrom,
                        name=job.name,
                        data=data,
                        metadata=annotations if table == "variants" else None,
                    )
                )
    finally:
        if reference is not None:
            reference.close()
    return out, builder.report


def _commit_catalog(
    session: Any,
    request: IngestRequest,
    assembly: Assembly,
    run_id: int,
    plans: list[_Planned],
    parts: list[PartInfo],
    superseded: list[int],
    replaced_files: set[int],
    key: bytes,
) -> None:
    now = datetime.now(UTC)
    dataset = repo.get_or_create_dataset(session, name=request.dataset, assembly=assembly.value)
    run = m.IngestRun(
        id=run_id,
        started_at=now,
        finished_at=now,
        status="committed",
        n_files=len(plans),
        n_samples=sum(len(p.samples) for p in plans),
        n_variants=sum(p.report.alleles for p in plans if p.report),
        command=request.command,
        report=json.dumps({p.path.name: p.report.as_dict() for p in plans if p.report}, default=str),
    )
    session.add(run)
    session.flush()
    if replaced_files:
        repo.mark_files_replaced(session, file_ids=replaced_files, run_id=run_id)
    submitting_centre = repo.get_or_create_centre(session, request.centre)
    for plan in plans:
        kind = "bcf" if plan.path.suffix == ".bcf" else ("gvcf" if plan.report and plan.report.is_gvcf else "vcf")
        session.add(
            m.VcfFile(
                id=plan.file_id,
                dataset_id=dataset.id,
                centre_id=submitting_centre.id,
                run_id=run_id,
                name=plan.path.name,
                sha256=plan.sha256,
                size_bytes=plan.path.stat().st_size,
                kind=kind,
                n_records=plan.report.records if plan.report else 0,
                n_samples=len(plan.samples),
                status="active",
                created_at=now,
            )
        )
        session.flush()
        for gid, pop, sex, centre, n in plan.groups:
            session.add(
                m.CallGroup(
                    id=gid,
                    file_id=plan.file_id,
                    dataset_id=dataset.id,
                    population=pop,
                    sex=sex,
                    centre=centre,
                    n_samples=n,
                )
            )
        pseudonyms = [pseudonymise(key, rec.subject_id) for rec in plan.samples]
        subjects = repo.get_or_create_subjects(
            session, [(p, rec.sex.value) for p, rec in zip(pseudonyms, plan.samples, strict=True)]
        )
        centres = {name: repo.get_or_create_centre(session, name) for name in {rec.centre for rec in plan.samples}}
        _record_sheet_consents(session, plan, pseudonyms, subjects, now)
        phenotypes.record_from_sheet(
            session, {subjects[p].id: rec for p, rec in zip(pseudonyms, plan.samples, strict=True)}
        )
        for sid, rec, pseudonym in zip(plan.sample_ids, plan.samples, pseudonyms, strict=True):
            subject = subjects[pseudonym]
            sample_centre = centres[rec.centre]
            session.add(
                m.Sample(
                    id=sid,
                    dataset_id=dataset.id,
                    sample_id=rec.sample_id,
                    subject_id=subject.id,
                    centre_id=sample_centre.id,
                    file_id=plan.file_id,
                    sex=rec.sex.value,
                    population=rec.population,
                    consent=rec.consent,
                    status="active",
                    created_at=now,
                )
            )
    session.flush()
    replaced_parts = [
        f.id
        for table in ("variants", "calls", "site_counts", "coverage")
        for f in repo.live_store_files(session, table_name=table, assembly=assembly.value)
        if file_id_of(f.path) in replaced_files
    ]
    repo.mark_store_files_removed(session, ids=[*superseded, *replaced_parts], run_id=run_id)
    session.add_all(
        store_file_rows(
            parts,
            run_id=run_id,
            dataset_of=lambda p: dataset.id if p.table != "variant_stats" else None,
            created_at=now,
        )
    )


def _record_sheet_consents(
    session: Any, plan: _Planned, pseudonyms: list[str], subjects: dict[str, m.Subject], now: datetime
) -> None:
    """A sample sheet's consent column becomes a subject's first recorded consent.

    Only for subjects with none on record: a later submission never overrides what a steward
    recorded (a withdrawal stays a withdrawal). "unknown" records nothing: no research use.
    """
    have = sharing.current_consents(session, [s.id for s in subjects.values()])
    for rec, pseudonym in zip(plan.samples, pseudonyms, strict=True):
        subject = subjects[pseudonym]
        codes = [c.strip() for c in rec.consent.replace(",", ";").split(";") if c.strip()]
        if subject.id in have or not codes or codes == ["unknown"]:
            continue
        have[subject.id] = sharing.record_consent(
            session,
            subject=subject,
            codes=codes,
            status="given",
            by="ingest",
            source=f"sample sheet of {plan.path.name}",
            bump=False,
        )
    sharing.bump_policy_version(session)


__all__ = ["FileOutcome", "GenomenodeError", "IngestRequest", "IngestResult", "ingest"]
