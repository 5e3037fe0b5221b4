"""Erasure: a person's genotypes leave the store, the archive and the catalog; an audit entry stays.

Under the store's write lock, for every file that held the person:
1. its calls parts are rewritten without their rows; its site_counts and coverage parts with their
   share taken out of their call group (store.exclusion computes the share; a group of one goes);
   its variants parts without alleles only they carried in that file;
2. the archived submission is re-written without their column (decrypted to a private temporary
   folder, re-encrypted, renamed over the old copy);
3. statistics are recomputed for the chromosomes touched, and one catalog transaction swaps the
   parts, shrinks the groups, marks the samples and the subject erased and deletes their consents,
   phenotypes, diagnoses and age, and unlinks their samples from cases (whose stored analyses,
   showing their genotypes, are dropped).
Superseded parts that held the person are deleted at once, not after the readers' grace period.
What remains: the subject's keyed pseudonym with status 'erased' (so a re-submission is refused
rather than silently re-adding them) and the audit entry recording that the erasure happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import delete, func, select, update

from genomenode.access import policy
from genomenode.access.crypt import archive_file, load_or_create_archive_keys, plaintext_copy
from genomenode.access.gate import AccessControl
from genomenode.catalog import models as m
from genomenode.catalog import phenotypes, sharing
from genomenode.catalog import repository as repo
from genomenode.catalog.beacon_ledger import forget_subject
from genomenode.catalog.cases import forget_samples
from genomenode.domain.assembly import Assembly
from genomenode.domain.samples import Sex
from genomenode.errors import AccessDeniedError, NotFoundError
from genomenode.ingest.vcf_writer import write_without_samples
from genomenode.pipeline.archive_sweep import ERASING, sweep_archive
from genomenode.pipeline.restats import exclusion_group_of, file_id_of, recompute_stats, store_file_rows
from genomenode.store.exclusion import exclusion_tables
from genomenode.store.lock import write_lock
from genomenode.store.parquet import PartInfo, annotation_headers, annotation_metadata, write_part


@dataclass(frozen=True)
class _Target:
    sample: int
    sample_name: str
    file_id: int
    group: m.CallGroup | None
    assembly: Assembly
    sex: Sex
    dataset_id: int


def erase(gate: AccessControl, caller: policy.Caller, individual_id: str) -> dict[str, Any]:
    decision = policy.may(caller, policy.Action.ERASE)
    if not decision:
        raise AccessDeniedError(decision.reason)
    settings = gate.settings
    root = settings.store_root
    with write_lock(root):
        with gate.Session() as s:
            sweep_archive(settings.archive_root, sharing.archived_sizes(s))
            subject = sharing.get_subject(s, individual_id)
            if subject is None or subject.status == "erased":
                raise NotFoundError(f"no individual {individual_id!r}")
            targets = _targets(s, subject.id)
            run_id = int(s.scalar(select(func.max(m.IngestRun.id))) or 0) + 1
            exclusion_groups = set(
                s.scalars(select(m.CallGroup.id).where(m.CallGroup.excludes_sample_id.in_([t.sample for t in targets])))
            )
        written: list[PartInfo] = []
        archives: list[tuple[Path, m.ArchivedFile, int]] = []
        try:
            superseded, part_dataset, dropped_groups = _rewrite_parts(
                root, gate, targets, run_id, exclusion_groups, written
            )
            stats_old: list[int] = []
            with gate.Session() as s:
                by_assembly: dict[Assembly, set[str]] = {}
                for p in written:
                    by_assembly.setdefault(Assembly(p.assembly), set()).add(p.chrom)
                for assembly, chroms in by_assembly.items():
                    stats, old = recompute_stats(
                        root,
                        s,
                        assembly,
                        sorted(chroms),
                        written,
                        [],
                        run_id,
                        set(),
                        lambda *_: None,
                        drop_groups=dropped_groups,
                        replaced_parts=superseded,
                    )
                    written += stats
                    stats_old += old
            archives = _rewrite_archives(gate, targets)
            gate.record(caller, "erasure", target=subject.pseudonym, outcome="done", samples=len(targets))
            with gate.Session() as s, s.begin():
                now = datetime.now(UTC)
                s.add(m.IngestRun(id=run_id, started_at=now, finished_at=now, status="committed", command="erase"))
                s.flush()
                repo.mark_store_files_removed(s, ids=[*superseded, *stats_old], run_id=run_id)
                s.add_all(
                    store_file_rows(
                        written, run_id=run_id, dataset_of=lambda p: part_dataset.get(p.path), created_at=now
                    )
                )
                for t in targets:
                    if t.group is not None and t.group.id not in dropped_groups:
                        s.execute(
                            update(m.CallGroup)
                            .where(m.CallGroup.id == t.group.id)
                            .values(n_samples=m.CallGroup.n_samples - 1)
                        )
                    s.execute(
                        update(m.Sample)
                        .where(m.Sample.id == t.sample)
                        .values(status="erased", sample_id=f"erased-{t.sample}", population="", consent="")
                    )
                if dropped_groups:
                    s.execute(delete(m.CallGroup).where(m.CallGroup.id.in_(dropped_groups)))
                for _, row, size in archives:
                    s.execute(
                        update(m.ArchivedFile)
                        .where(m.ArchivedFile.file_id == row.file_id)
                        .values(plaintext_sha256=row.plaintext_sha256, encrypted_bytes=size)
                    )
                s.execute(delete(m.Consent).where(m.Consent.subject_id == subject.id))
                forget_subject(s, subject.id)
                forget_samples(s, [t.sample for t in targets])  # their cases keep no link and no analysis
                phenotypes.erase_annotations(s, subject.id)
                s.execute(update(m.Subject).where(m.Subject.id == subject.id).values(status="erased", sex="unknown"))
                sharing.bump_policy_version(s)
        except BaseException:
            for part in written:
                (root / part.path).unlink(missing_ok=True)
            for final, _, _ in archives:
                final.with_name(final.name + ERASING).unlink(missing_ok=True)
            raise
        # the new archive copies replace the old ones only now that the catalog says so
        for final, _, _ in archives:
            final.with_name(final.name + ERASING).replace(final)
        _delete_old_parts(gate, root, {t.file_id for t in targets})
    return {"individual": individual_id, "status": "erased", "samples": len(targets), "run": run_id}


def _targets(session: Any, subject_id: int) -> list[_Target]:
    rows = session.execute(
        select(m.Sample, m.Dataset.assembly, m.Centre.name)
        .join(m.Dataset, m.Dataset.id == m.Sample.dataset_id)
        .join(m.Centre, m.Centre.id == m.Sample.centre_id)
        .where(m.Sample.subject_id == subject_id, m.Sample.status.in_(["active", "replaced"]))
    ).all()
    out = []
    for sample, assembly, centre in rows:
        group = session.scalar(
            select(m.CallGroup).where(
                m.CallGroup.file_id == sample.file_id,
                m.CallGroup.population == sample.population,
                m.CallGroup.sex == sample.sex,
                m.CallGroup.centre == centre,
                m.CallGroup.weight >= 0,
            )
        )
        out.append(
            _Target(
                sample.id,
                sample.sample_id,
                sample.file_id,
                group,
                Assembly(assembly),
                Sex(sample.sex),
                sample.dataset_id,
            )
        )
    return out


_TABLES = ("variants", "calls", "site_counts", "coverage")


def _live_parts(session: Any, table: str, target: _Target, exclusion_groups: set[int]) -> dict[str, list[m.StoreFile]]:
    """The file's live parts by chromosome: its own, and the person's exclusion parts (others'
    exclusion parts stay as they are: their share of the group does not change)."""
    out: dict[str, list[m.StoreFile]] = {}
    for f in repo.live_store_files(session, table_name=table, assembly=target.assembly.value):
        if file_id_of(f.path) != target.file_id:
            continue
        excluded = exclusion_group_of(f.path)
        if excluded is None or excluded in exclusion_groups:
            out.setdefault(f.chrom, []).append(f)
    return out


def _rewrite_parts(
    root: Path,
    gate: AccessControl,
    targets: list[_Target],
    run_id: int,
    exclusion_groups: set[int],
    written: list[PartInfo],
) -> tuple[list[int], dict[str, int], set[int]]:
    """New parts of every file that held the person; returns (superseded ids, part → dataset, dropped groups)."""
    superseded: list[int] = []
    part_dataset: dict[str, int] = {}
    dropped = set(exclusion_groups)
    con = duckdb.connect(config={"threads": 2})
    try:
        with gate.Session() as s:
            for t in targets:
                if t.group is None:
                    continue  # a replaced file: no live parts, its old parts are deleted below
                if t.group.n_samples == 1:
                    dropped.add(t.group.id)
                tables = {name: _live_parts(s, name, t, exclusion_groups) for name in _TABLES}
                for chrom in sorted(set().union(*tables.values())):
                    paths = {name: [root / f.path for f in tables[name].get(chrom, [])] for name in tables}
                    if not any(paths.values()):
                        continue
                    share_sites, share_cov = exclusion_tables(
                        assembly=t.assembly,
                        chrom=chrom,
                        site_files=[p for p in paths["site_counts"] if "-x" not in p.name],
                        coverage_files=[p for p in paths["coverage"] if "-x" not in p.name],
                        calls_files=paths["calls"],
                        file_id=t.file_id,
                        group_id=t.group.id,
                        sample=t.sample,
                        sex=t.sex,
                        exclusion_group_id=t.group.id,
                    )
                    new = _without_person(con, paths, share_sites, share_cov, t.sample, dropped)
                    name = f"{run_id:08d}-{t.file_id:08d}-e{t.sample}"
                    # the file's annotation header stays with its alleles (store.parquet.ANNOTATIONS_KEY)
                    annotations = {k: v for p in paths["variants"] for k, v in annotation_headers(p).items()}
                    for table, data in new.items():
                        part = write_part(
                            root,
                            table=table,
                            assembly=t.assembly.value,
                            chrom=chrom,
                            name=name,
                            data=data,
                            metadata=annotation_metadata(annotations) if table == "variants" else None,
                        )
                        written.append(part)
                        part_dataset[part.path] = t.dataset_id
                    superseded += [f.id for name_ in tables for f in tables[name_].get(chrom, [])]
    finally:
        con.close()
    return superseded, part_dataset, dropped


def _without_person(
    con: duckdb.DuckDBPyConnection,
    paths: dict[str, list[Path]],
    share_sites: pa.Table,
    share_cov: pa.Table,
    sample: int,
    dropped: set[int],
) -> dict[str, pa.Table]:
    """The chromosome's four tables with the person's rows and share removed."""

    def read(name: str) -> str:
        files = [str(p) for p in paths[name] if "-x" not in p.name]
        return f"read_parquet({files!r})" if files else "(SELECT NULL WHERE false)"

    drop = sorted(dropped) or [-1]
    con.register("share_sites", share_sites)
    con.register("share_cov", share_cov)
    out: dict[str, pa.Table] = {}
    if paths["calls"]:
        out["calls"] = con.sql(f"SELECT * FROM {read('calls')} WHERE sample <> {sample} ORDER BY pos").to_arrow_table()
        carried_alone = f"""
            SELECT pos, ref::VARCHAR AS ref, alt::VARCHAR AS alt FROM {read("calls")}
            WHERE sample = {sample} AND (call_allele1 = 1 OR call_allele2 = 1)
            EXCEPT
            SELECT pos, ref::VARCHAR, alt::VARCHAR FROM {read("calls")}
            WHERE sample <> {sample} AND (call_allele1 = 1 OR call_allele2 = 1)
        """
    else:
        carried_alone = "SELECT 0 AS pos, '' AS ref, '' AS alt WHERE false"
    if paths["variants"]:
        out["variants"] = con.sql(
            f"""SELECT v.* FROM {read("variants")} v
                ANTI JOIN ({carried_alone}) a ON a.pos = v.pos AND a.ref = v.ref AND a.alt = v.alt
                ORDER BY v.pos"""
        ).to_arrow_table()
    if paths["site_counts"]:
        out["site_counts"] = con.sql(
            f"""SELECT s.group_id, s.chrom, s.pos, s.ref, s.alt,
                       (s.an - coalesce(x.an, 0))::INTEGER AS an, (s.ac - coalesce(x.ac, 0))::INTEGER AS ac,
                       (s.hom - coalesce(x.hom, 0))::INTEGER AS hom, (s.hemi - coalesce(x.hemi, 0))::INTEGER AS hemi,
                       s.pass_filter
                FROM {read("site_counts")} s
                LEFT JOIN share_sites x ON x.group_id = s.group_id AND x.pos = s.pos
                     AND x.ref = s.ref::VARCHAR AND x.alt = s.alt::VARCHAR
                WHERE s.group_id NOT IN ({", ".join(map(str, drop))})
                ORDER BY s.pos"""
        ).to_arrow_table()
    if paths["coverage"]:
        out["coverage"] = con.sql(
            f"""SELECT c.group_id, c.chrom, c.start, c."end", (c.an - coalesce(x.an, 0))::INTEGER AS an
                FROM {read("coverage")} c
                LEFT JOIN share_cov x ON x.group_id = c.group_id AND x.start = c.start
                WHERE c.group_id NOT IN ({", ".join(map(str, drop))}) AND c.an - coalesce(x.an, 0) > 0
                ORDER BY c.start"""
        ).to_arrow_table()
    con.unregister("share_sites")
    con.unregister("share_cov")
    return out


def _rewrite_archives(gate: AccessControl, targets: list[_Target]) -> list[tuple[Path, m.ArchivedFile, int]]:
    """Each archived submission that held the person, re-encrypted without their column beside the
    old copy (`<name>.erasing`); the caller renames it over the old one after the commit."""
    settings = gate.settings
    keys = load_or_create_archive_keys(*settings.crypt4gh_key_paths)
    out: list[tuple[Path, m.ArchivedFile, int]] = []
    by_file: dict[int, list[str]] = {}
    for t in targets:
        by_file.setdefault(t.file_id, []).append(t.sample_name)
    with gate.Session() as s:
        rows = {f: s.get(m.ArchivedFile, f) for f in by_file}
    work = settings.data_dir / "tmp"
    work.mkdir(mode=0o700, exist_ok=True)
    for file_id, names in by_file.items():
        row = rows[file_id]
        if row is None:
            continue
        final = settings.archive_root / row.path
        with plaintext_copy(final, keys, expected_sha256=row.plaintext_sha256, work_dir=work) as plain:
            cut = plain.with_name("without.vcf.gz")
            write_without_samples(plain, cut, names)
            done = archive_file(cut, final.with_name(final.name + ERASING), keys, replace=True)
        updated = m.ArchivedFile(file_id=file_id, path=row.path, plaintext_sha256=done.plaintext_sha256)
        out.append((final, updated, done.encrypted_bytes))
    return out


def _delete_old_parts(gate: AccessControl, root: Path, file_ids: set[int]) -> None:
    """Parts no longer live that belong to the person's files: deleted now, not after the grace period."""
    with gate.Session() as s:
        live = {f.path for t in _TABLES for f in repo.live_store_files(s, table_name=t)}
        every = repo.all_store_paths(s)
    for path in every - live:
        if file_id_of(path) in file_ids:
            (root / path).unlink(missing_ok=True)
