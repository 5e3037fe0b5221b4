"""The synthetic cohort looks like what regional centres send, follows genetics, and is reproducible."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cyvcf2
import pytest

from genomenode.domain.assembly import CANONICAL_CONTIGS, CONTIG_ORDER, Assembly, contig_lengths, is_par
from genomenode.errors import ConfigurationError
from genomenode.ingest.vcf_writer import read_sites
from genomenode.simulate import CohortFiles, generate_cohort
from genomenode.simulate.loci import gene_windows
from genomenode.simulate.people import CENTRES
from genomenode.simulate.pgx import default_pgx_positions

N, SEED = 45, 3


@dataclass(frozen=True)
class Record:
    chrom: str
    pos: int
    id: str
    ref: str
    alts: tuple[str, ...]
    calls: dict[str, tuple[int, ...]]  # sample → alleles (-1 = no call); length is the ploidy


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> CohortFiles:
    return generate_cohort(tmp_path_factory.mktemp("cohort"), individuals=N, seed=SEED)


@pytest.fixture(scope="module")
def records(cohort: CohortFiles) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for centre, path in cohort.vcfs.items():
        vcf = cyvcf2.VCF(str(path))
        out[centre] = [
            Record(
                v.CHROM,
                v.POS,
                v.ID or ".",
                v.REF,
                tuple(v.ALT),
                {s: tuple(g[:-1]) for s, g in zip(vcf.samples, v.genotypes, strict=True)},
            )
            for v in vcf
        ]
        vcf.close()
    return out


@pytest.fixture(scope="module")
def sheet(cohort: CohortFiles) -> list[dict[str, str]]:
    header, *rows = (line.split("\t") for line in cohort.sample_sheet.read_text().splitlines())
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_generate_cohort__same_seed_gives_identical_files(cohort: CohortFiles, tmp_path: Path) -> None:
    again = generate_cohort(tmp_path, individuals=N, seed=SEED)
    for first, second in ((cohort.sample_sheet, again.sample_sheet), (cohort.pedigree, again.pedigree)):
        assert first.read_bytes() == second.read_bytes()
    for centre, path in cohort.vcfs.items():
        assert path.read_bytes() == again.vcfs[centre].read_bytes(), centre


def test_generate_cohort__another_seed_gives_another_cohort(cohort: CohortFiles, tmp_path: Path) -> None:
    other = generate_cohort(tmp_path, individuals=N, seed=SEED + 1)
    assert other.sample_sheet.read_text() != cohort.sample_sheet.read_text()
    assert other.vcfs["stockholm"].read_bytes() != cohort.vcfs["stockholm"].read_bytes()


def test_generate_cohort__writes_bgzipped_vcfs_bcftools_and_cyvcf2_read_alike(
    cohort: CohortFiles, records: dict[str, list[Record]]
) -> None:
    assert set(cohort.vcfs) == set(CENTRES)
    for centre, path in cohort.vcfs.items():
        assert path.read_bytes()[:4] == b"\x1f\x8b\x08\x04"  # gzip with BGZF's extra field
        assert not list(path.parent.glob(f"{path.name}.*")), "temporary files left behind"
        assert records[centre]
        if shutil.which("bcftools"):
            body = subprocess.run(["bcftools", "view", "-H", str(path)], check=True, capture_output=True, text=True)
            assert len(body.stdout.splitlines()) == len(records[centre])


def test_generate_cohort__header_names_every_canonical_contig_and_the_assembly(cohort: CohortFiles) -> None:
    vcf = cyvcf2.VCF(str(cohort.vcfs["skane"]))
    lengths = dict(zip(vcf.seqnames, vcf.seqlens, strict=True))
    raw = vcf.raw_header
    vcf.close()
    assert lengths == {c: contig_lengths(Assembly.GRCh38)[c] for c in CANONICAL_CONTIGS}
    assert "##reference=GRCh38" in raw
    for field in ("GT", "DP", "GQ", "AD"):
        assert f"##FORMAT=<ID={field}," in raw


def test_generate_cohort__each_centre_sends_exactly_its_own_people(
    cohort: CohortFiles, sheet: list[dict[str, str]]
) -> None:
    assert len(sheet) == cohort.individuals == N
    assert len({r["sample_id"] for r in sheet}) == len({r["subject_id"] for r in sheet}) == N
    assert {r["sex"] for r in sheet} == {"female", "male"}
    for centre, path in cohort.vcfs.items():
        vcf = cyvcf2.VCF(str(path))
        assert list(vcf.samples) == sorted(r["sample_id"] for r in sheet if r["centre"] == centre)
        vcf.close()


def test_generate_cohort__records_are_variant_only_but_for_pgx_sorted_and_inside_the_gene_windows(
    records: dict[str, list[Record]],
) -> None:
    windows = gene_windows(Assembly.GRCh38)
    pgx = {(s.chrom, s.pos) for s in read_sites(default_pgx_positions())}
    for centre, recs in records.items():
        keys = [(CONTIG_ORDER[r.chrom], r.pos) for r in recs]
        assert keys == sorted(set(keys)), f"{centre}: unsorted or repeated positions"
        for r in recs:
            forced = (r.chrom, r.pos) in pgx
            assert forced or any(a > 0 for call in r.calls.values() for a in call), f"{centre} {r.chrom}:{r.pos}"
            end = r.pos + len(r.ref) - 1
            in_window = any(w.chrom == r.chrom and w.start <= r.pos and end <= w.end for w in windows)
            assert in_window or forced, f"{r.chrom}:{r.pos}"
            simple = all(len(alt) == len(r.ref) == 1 or alt[0] == r.ref[0] for alt in r.alts)
            assert r.ref not in r.alts and (simple or forced)  # PGx records are as PharmCAT's list writes them


def test_generate_cohort__men_are_haploid_on_x_outside_the_pars_and_on_y(
    records: dict[str, list[Record]], sheet: list[dict[str, str]]
) -> None:
    male = {r["sample_id"]: r["sex"] == "male" for r in sheet}
    seen = {"chrX": 0, "PAR": 0, "chrY": 0}
    for recs in records.values():
        for r in recs:
            par = is_par(Assembly.GRCh38, r.chrom, r.pos)
            kind = "PAR" if par else r.chrom
            seen[kind] = seen.get(kind, 0) + 1
            for sample, call in r.calls.items():
                if kind == "chrY":
                    assert len(call) == 1 and (male[sample] or call == (-1,)), f"{sample} at {r.chrom}:{r.pos}"
                elif kind == "chrX":
                    assert len(call) == (1 if male[sample] else 2), f"{sample} at {r.chrom}:{r.pos}"
                else:
                    assert len(call) == 2, f"{sample} at {r.chrom}:{r.pos}"
    assert seen["chrX"] and seen["PAR"] and seen["chrY"], seen


def test_generate_cohort__trio_children_inherit_one_allele_from_each_parent(
    cohort: CohortFiles, records: dict[str, list[Record]], sheet: list[dict[str, str]]
) -> None:
    male = {r["sample_id"]: r["sex"] == "male" for r in sheet}
    trios = [row.split("\t")[1:4] for row in cohort.pedigree.read_text().splitlines() if row.split("\t")[2] != "0"]
    assert trios
    checked = consistent = 0
    for recs in records.values():
        for r in recs:
            for child, dad, mum in trios:
                if child not in r.calls or r.chrom == "chrY":
                    continue
                kid, f, m = r.calls[child], r.calls[dad], r.calls[mum]
                if -1 in kid + f + m:
                    continue
                checked += 1
                if len(kid) == 1:  # a son's X comes from his mother
                    consistent += kid[0] in m
                elif len(f) == 1:  # a daughter's X: her father's only one, and one of her mother's
                    consistent += (kid[0] in f and kid[1] in m) or (kid[1] in f and kid[0] in m)
                else:
                    consistent += (kid[0] in f and kid[1] in m) or (kid[1] in f and kid[0] in m)
    assert checked > 100
    assert consistent / checked >= 0.99
    centre = {r["sample_id"]: r["centre"] for r in sheet}
    assert all(centre[c] == centre[d] == centre[m] for c, d, m in trios)
    assert all(male[d] and not male[m] for _, d, m in trios)


def test_generate_cohort__pedigree_is_six_column_ped_with_every_person_once(
    cohort: CohortFiles, sheet: list[dict[str, str]]
) -> None:
    rows = [line.split("\t") for line in cohort.pedigree.read_text().splitlines()]
    assert all(len(row) == 6 for row in rows)
    assert sorted(row[1] for row in rows) == sorted(r["sample_id"] for r in sheet)
    assert {row[4] for row in rows} <= {"1", "2"} and {row[5] for row in rows} <= {"-9", "1", "2"}
    families = {row[0] for row in rows}
    trio_members = sum(1 for row in rows if row[5] != "-9")
    assert len(families) == len(rows) - 2 * trio_members // 3


def test_generate_cohort__carries_cyp2c19_star2_at_its_real_position(records: dict[str, list[Record]]) -> None:
    assert default_pgx_positions().exists(), "PharmCAT positions missing next to the repository (../shared)"
    found = [
        (r.id, r.ref, r.alts) for recs in records.values() for r in recs if (r.chrom, r.pos) == ("chr10", 94781859)
    ]
    assert found and set(found) == {("rs4244285", "G", ("A",))}


def test_generate_cohort__every_centre_force_calls_every_pgx_position_with_the_list_s_alleles(
    records: dict[str, list[Record]],
) -> None:
    listed = {(s.chrom, s.pos): (s.ref, s.alts) for s in read_sites(default_pgx_positions())}
    for centre, recs in records.items():
        at = {(r.chrom, r.pos): r for r in recs if (r.chrom, r.pos) in listed}
        assert set(at) == set(listed), f"{centre}: {len(set(listed) - set(at))} PGx positions without a record"
        for key, r in at.items():
            assert (r.ref, r.alts) == listed[key]
            assert all(a >= 0 for call in r.calls.values() for a in call), f"{centre} {key}: a no-call"


def test_generate_cohort__pgx_star_alleles_use_the_list_s_alt_indices(records: dict[str, list[Record]]) -> None:
    # UGT1A1*28 is the TA repeat's second listed ALT (CATAT), always with *80 on the same haplotype
    ta = next(s for s in read_sites(default_pgx_positions()) if s.id == "rs3064744")
    calls = [
        c for recs in records.values() for r in recs if (r.chrom, r.pos) == (ta.chrom, ta.pos) for c in r.calls.values()
    ]
    carried = {ta.alts[a - 1] for call in calls for a in call if a > 0}
    assert carried <= {"CATAT", "CATATAT"} and "CATAT" in carried


def test_generate_cohort__most_sites_are_rare(records: dict[str, list[Record]]) -> None:
    counts: dict[tuple[str, int], int] = {}
    for recs in records.values():
        for r in recs:
            alt = sum(1 for call in r.calls.values() for a in call if a > 0)
            counts[(r.chrom, r.pos)] = counts.get((r.chrom, r.pos), 0) + alt
    rare = sum(1 for c in counts.values() if c < 0.05 * 2 * N)
    assert rare / len(counts) > 0.5


def test_generate_cohort__reports_progress_to_completion(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    generate_cohort(
        tmp_path, individuals=12, seed=1, progress=lambda stage, done, total: seen.append((stage, done, total))
    )
    stages = {stage for stage, _, _ in seen}
    assert len(stages) >= 2
    for stage in stages:
        last = [(done, total) for s, done, total in seen if s == stage][-1]
        assert last[0] == last[1] > 0


def test_generate_cohort__refuses_a_named_pgx_list_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        generate_cohort(tmp_path, individuals=12, pgx_positions=tmp_path / "missing.vcf")
