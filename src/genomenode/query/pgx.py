"""Stored samples' genotypes at the pharmacogenomic positions, as the records their files wrote.

Individual-level: read only after policy allowed the caller to see the samples (the PGx service).
The store keeps calls sparsely, so a sample's genotype at a position is rebuilt from three facts:

* its file had a record over the position: the `variants` rows of that file whose record (before
  normalisation: `source_pos`, `source_ref`, `source_alts`) overlaps it. A multi-allelic record
  split into one row per ALT comes back as one record, its genotype reassembled from the sample's
  `calls` rows (codes 0 REF, 1 this ALT, 2 another ALT); a sample of that file without a row there
  is hom-ref (the build keeps a row for every ALT or missing allele);
* else, for a gVCF (or an all-sites file with reference blocks), a `coverage` span of the sample's
  call group over the whole position: hom-ref, written as a record of the definition's REF;
* else nothing: the position is missing. A variant-only file's coverage is the whole chromosome
  (absence counts as hom-ref for allele numbers), but PharmCAT never assumes reference, so it is
  not used here: such a file speaks for a PGx position only if it carried a record there.

Limits, from what the store keeps: FORMAT/PS is not stored (a phased call comes back without a
phase set, i.e. one phase set per sample and contig); the phase of an absent (hom-ref) call is not
stored (it comes back unphased); ploidy of an absent call is the sample's sex's (domain.ploidy);
coverage is per call group, which for a multi-sample gVCF is wider than one sample.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from genomenode.catalog import models as m
from genomenode.domain.assembly import Assembly
from genomenode.domain.observed import MISSING, ObservedGenotype
from genomenode.domain.ploidy import expected_ploidy
from genomenode.domain.samples import Sex
from genomenode.query.genotypes import id_list
from genomenode.store.engine import Parts, StoreEngine

_IN_CHUNK = 5_000
# Non-variant ALTs the build stores no row for: a copy carrying one shows as "another ALT" (2).
_UNSTORED = frozenset({"*", "<NON_REF>", "<*>", "."})


@dataclass(frozen=True)
class StoredSample:
    """What reading a sample's PGx genotypes needs from the catalog."""

    id: int  # catalog id: the sample's code in the store
    name: str  # the sample id its file used
    file_id: int
    group_id: int | None  # its call group (coverage is kept per group)
    sex: Sex
    gvcf: bool  # the file has reference blocks: absence means "not called", blocks mean hom-ref


@dataclass(frozen=True)
class PgxSite:
    """A position to read: canonical contig, VCF POS and the REF there (the definition's)."""

    chrom: str
    pos: int
    ref: str

    @property
    def end(self) -> int:
        return self.pos + len(self.ref) - 1


def stored_samples(session: Session, sample_ids: Iterable[int]) -> list[StoredSample]:
    """The active samples among `sample_ids`, with their file, call group, sex and file kind.

    A BCF's kind does not say whether it was a gVCF; the ingest run's report (per file name) does.
    """
    wanted = sorted(set(sample_ids))
    if not wanted:
        return []
    rows: list[Any] = []
    for i in range(0, len(wanted), _IN_CHUNK):  # SQLite limits the parameters of one statement
        rows += session.execute(
            select(m.Sample, m.VcfFile, m.Centre.name, m.IngestRun.report)
            .join(m.VcfFile, m.VcfFile.id == m.Sample.file_id)
            .join(m.Centre, m.Centre.id == m.Sample.centre_id)
            .join(m.IngestRun, m.IngestRun.id == m.VcfFile.run_id)
            .where(m.Sample.id.in_(wanted[i : i + _IN_CHUNK]), m.Sample.status == "active")
            .order_by(m.Sample.id)
        ).all()
    files = {f.id for _, f, _, _ in rows}
    groups: dict[tuple[int, str, str, str], int] = {}
    for g in session.scalars(
        select(m.CallGroup).where(m.CallGroup.file_id.in_(files), m.CallGroup.excludes_sample_id.is_(None))
    ):
        groups.setdefault((g.file_id, g.population, g.sex, g.centre), g.id)
    out = []
    for sample, vcf, centre, report in rows:
        gvcf = vcf.kind == "gvcf"
        if vcf.kind == "bcf":
            try:
                gvcf = bool(json.loads(report or "{}").get(vcf.name, {}).get("is_gvcf", False))
            except (ValueError, AttributeError):
                gvcf = False
        out.append(
            StoredSample(
                sample.id,
                sample.sample_id,
                vcf.id,
                groups.get((vcf.id, sample.population, sample.sex, centre)),
                Sex(sample.sex),
                gvcf,
            )
        )
    return out


_RECORDS_SQL = """
SELECT DISTINCT v.file_id, CAST(v.chrom AS STRING) AS chrom, v.pos, CAST(v.ref AS STRING) AS ref,
       CAST(v.alt AS STRING) AS alt, v.source_pos, v.source_ref, v.source_alts, v.source_allele
FROM {variants} v
JOIN {sites} s ON CAST(v.chrom AS STRING) = s.chrom AND v.source_pos <= s.site_end
     AND v.source_pos + length(v.source_ref) - 1 >= s.site_start
WHERE v.file_id IN (SELECT value FROM {files})
ORDER BY v.file_id, chrom, v.source_pos, v.source_ref, v.source_alts, v.source_allele, v.pos, ref, alt
"""

_CALLS_SQL = """
SELECT c.sample, r.record, r.source_allele, c.call_allele1, c.call_allele2, c.call_phased
FROM {calls} c
JOIN {alleles} r ON c.file_id = r.file_id AND CAST(c.chrom AS STRING) = r.chrom AND c.pos = r.pos
     AND CAST(c.ref AS STRING) = r.ref AND CAST(c.alt AS STRING) = r.alt
WHERE c.sample IN (SELECT value FROM {samples})
ORDER BY c.sample, r.record, r.source_allele
"""

_COVERAGE_SQL = """
SELECT DISTINCT c.group_id, s.site
FROM {coverage} c
JOIN {sites} s ON CAST(c.chrom AS STRING) = s.chrom AND c.start <= s.site_start AND c."end" >= s.site_end
WHERE c.group_id IN (SELECT value FROM {groups}) AND c.an > 0
ORDER BY c.group_id, s.site
"""


@dataclass
class _Record:
    file_id: int
    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]


def observed_for_samples(
    engine: StoreEngine,
    *,
    variants_files: Sequence[Path],
    calls_files: Sequence[Path],
    coverage_files: Sequence[Path],
    samples: Sequence[StoredSample],
    sites: Sequence[PgxSite],
    assembly: Assembly = Assembly.GRCh38,
) -> dict[int, list[ObservedGenotype]]:
    """Each sample's (by catalog id) genotypes at the records over `sites`, and hom-ref records
    from gVCF reference blocks where its file had no record; three queries for all samples.

    The parts are the live ones of the sites' chromosomes (any files: rows are filtered to the
    samples' files). A sample whose file says nothing at a site has no genotype there (missing).
    """
    out: dict[int, list[ObservedGenotype]] = {s.id: [] for s in samples}
    if not samples or not sites or not variants_files:
        return out
    site_table = pa.table(
        {
            "site": pa.array(range(len(sites)), pa.int32()),
            "chrom": pa.array([s.chrom for s in sites], pa.string()),
            "site_start": pa.array([s.pos for s in sites], pa.int32()),
            "site_end": pa.array([s.end for s in sites], pa.int32()),
        }
    )
    alleles = engine.query(
        _RECORDS_SQL,
        relations={
            "variants": Parts.of("variants", variants_files),
            "sites": site_table,
            "files": id_list(sorted({s.file_id for s in samples})),
        },
    )
    records, allele_rows = _records(alleles)
    calls = _calls(engine, calls_files, allele_rows, [s.id for s in samples])
    covered = _covered(engine, coverage_files, samples, site_table)
    by_file: dict[int, list[int]] = {}
    for i, rec in enumerate(records):
        by_file.setdefault(rec.file_id, []).append(i)
    record_sites = _sites_with_records(records, by_file, sites)
    # per (file, sex): each record with the genotype of a sample that has no row there (hom-ref)
    defaults: dict[tuple[int, Sex], list[tuple[int, _Record, tuple[int, ...]]]] = {}
    for file_id, sex in {(s.file_id, s.sex) for s in samples}:
        defaults[(file_id, sex)] = [
            (i, records[i], (0,) * expected_ploidy(assembly, records[i].chrom, records[i].pos, sex))
            for i in by_file.get(file_id, ())
        ]
    enabled = gc.isenabled()
    gc.disable()  # millions of small objects that all live on: the collector would rescan them again and again
    try:
        for sample in samples:
            mine = calls.get(sample.id, {})
            found = out[sample.id]
            name = sample.name
            for i, rec, hom_ref in defaults[(sample.file_id, sample.sex)]:
                rows = mine.get(i)
                if rows is None:
                    if hom_ref:
                        found.append(ObservedGenotype(name, rec.chrom, rec.pos, rec.ref, rec.alts, hom_ref, False))
                    continue
                alleles, phased = _reassemble(rec, rows)
                if alleles:
                    found.append(ObservedGenotype(name, rec.chrom, rec.pos, rec.ref, rec.alts, alleles, phased))
            if sample.gvcf and sample.group_id is not None:
                spoken = record_sites.get(sample.file_id, set())
                for k in covered.get(sample.group_id, ()):
                    site = sites[k]
                    n = expected_ploidy(assembly, site.chrom, site.pos, sample.sex)
                    if k not in spoken and n:
                        found.append(ObservedGenotype(name, site.chrom, site.pos, site.ref, (), (0,) * n, False))
    finally:
        if enabled:
            gc.enable()
    return out


def _records(alleles: pa.Table) -> tuple[list[_Record], pa.Table]:
    """Distinct records (file, source position, REF, ALTs) and each stored allele's record index."""
    cols = {name: alleles.column(name).to_pylist() for name in alleles.column_names}
    index: dict[tuple[int, str, int, str, str], int] = {}
    records: list[_Record] = []
    record_of_row = []
    for f, c, p, r, a in zip(
        cols["file_id"], cols["chrom"], cols["source_pos"], cols["source_ref"], cols["source_alts"], strict=True
    ):
        key = (f, c, p, r, a)
        i = index.get(key)
        if i is None:
            i = index[key] = len(records)
            records.append(_Record(f, c, p, r, tuple(a.split(",")) if a else ()))
        record_of_row.append(i)
    table = alleles.select(["file_id", "chrom", "pos", "ref", "alt", "source_allele"]).append_column(
        "record", pa.array(record_of_row, pa.int32())
    )
    return records, table


def _calls(
    engine: StoreEngine, calls_files: Sequence[Path], allele_rows: pa.Table, samples: list[int]
) -> dict[int, dict[int, list[tuple[int, int, int, bool]]]]:
    """sample → record index → its rows (source allele, code 1, code 2, phased)."""
    if not calls_files or not allele_rows.num_rows:
        return {}
    relations = {"calls": Parts.of("calls", calls_files), "alleles": allele_rows, "samples": id_list(samples)}
    table = engine.query(_CALLS_SQL, relations=relations)
    out: dict[int, dict[int, list[tuple[int, int, int, bool]]]] = {}
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    for sample, record, k, a1, a2, phased in zip(*columns, strict=True):
        out.setdefault(sample, {}).setdefault(record, []).append((k, a1, a2, phased))
    return out


def _covered(
    engine: StoreEngine, coverage_files: Sequence[Path], samples: Sequence[StoredSample], site_table: pa.Table
) -> Mapping[int, list[int]]:
    """gVCF call group → the sites a reference block or record span of the group covers whole."""
    groups = sorted({s.group_id for s in samples if s.gvcf and s.group_id is not None})
    if not groups or not coverage_files:
        return {}
    relations = {"coverage": Parts.of("coverage", coverage_files), "sites": site_table, "groups": id_list(groups)}
    table = engine.query(_COVERAGE_SQL, relations=relations)
    out: dict[int, list[int]] = {}
    for g, k in zip(table.column("group_id").to_pylist(), table.column("site").to_pylist(), strict=True):
        out.setdefault(g, []).append(k)
    return out


def _sites_with_records(
    records: list[_Record], by_file: Mapping[int, list[int]], sites: Sequence[PgxSite]
) -> dict[int, set[int]]:
    """file → the sites one of its records overlaps (there, coverage adds nothing)."""
    by_chrom: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for chrom in {s.chrom for s in sites}:
        idx = np.array([k for k, s in enumerate(sites) if s.chrom == chrom], np.int64)
        by_chrom[chrom] = (
            idx,
            np.array([sites[k].pos for k in idx], np.int64),
            np.array([sites[k].end for k in idx], np.int64),
        )
    out: dict[int, set[int]] = {}
    for file_id, indices in by_file.items():
        hit: set[int] = set()
        for i in indices:
            rec = records[i]
            idx, starts, ends = by_chrom[rec.chrom]
            end = rec.pos + len(rec.ref) - 1
            hit.update(idx[(starts <= end) & (ends >= rec.pos)].tolist())
        out[file_id] = hit
    return out


def _reassemble(rec: _Record, rows: list[tuple[int, int, int, bool]]) -> tuple[tuple[int, ...], bool]:
    """One record's genotype from the sample's rows, one per stored ALT: per copy, the ALT whose
    row says 1 (this ALT); else missing if a row says so; else REF if every row says 0; a copy
    that is 'another ALT' in every row carries an ALT with no row (*, <NON_REF>)."""
    haploid = any(a2 == -2 for _, _, a2, _ in rows)
    unstored = [k for k, a in enumerate(rec.alts, start=1) if a in _UNSTORED]
    alleles = []
    for copy in (1,) if haploid else (1, 2):
        codes = [(k, a1 if copy == 1 else a2) for k, a1, a2, _ in rows]
        carried = [k for k, code in codes if code == 1]
        if carried:
            alleles.append(carried[0])
        elif any(code == -1 for _, code in codes):
            alleles.append(MISSING)
        elif all(code == 0 for _, code in codes):
            alleles.append(0)
        else:
            alleles.append(unstored[0] if len(unstored) == 1 else MISSING)
    phased = all(p for *_, p in rows) and len(alleles) > 1
    return tuple(alleles), phased
