"""The synthetic cohort looks like what regional centres send, and is reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genomenode.domain.assembly import Assembly, is_par
from genomenode.ingest.vcf import iter_records, read_header
from genomenode.simulate.cohort import CENTRES, generate_cohort


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return generate_cohort(tmp_path_factory.mktemp("cohort"), individuals=45, seed=3)


def _sheet(path: Path) -> list[dict[str, str]]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, ln.split("\t"), strict=True)) for ln in lines[1:]]


def test_generate_cohort__same_seed_gives_identical_files(cohort, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    again = generate_cohort(tmp_path, individuals=45, seed=3)
    for centre, path in cohort.vcfs.items():
        assert [r.pos for r in iter_records(path, read_header(path))] == [
            r.pos for r in iter_records(again.vcfs[centre], read_header(again.vcfs[centre]))
        ]
    assert again.sample_sheet.read_text() == cohort.sample_sheet.read_text()


def test_generate_cohort__each_centre_sends_only_its_own_people(cohort) -> None:  # type: ignore[no-untyped-def]
    rows = _sheet(cohort.sample_sheet)
    assert len(rows) == 45 and set(cohort.vcfs) == set(CENTRES)
    for centre, path in cohort.vcfs.items():
        assert set(read_header(path).samples) == {r["sample_id"] for r in rows if r["centre"] == centre}


def test_generate_cohort__variant_only_files_and_males_haploid_on_x(cohort) -> None:  # type: ignore[no-untyped-def]
    sex = {r["sample_id"]: r["sex"] for r in _sheet(cohort.sample_sheet)}
    saw_x = False
    for path in cohort.vcfs.values():
        header = read_header(path)
        male = np.array([sex[s] == "male" for s in header.samples])
        for rec in iter_records(path, header):
            assert (rec.gt > 0).any(), f"{path}: record without an ALT at {rec.pos}"
            if rec.chrom == "chrX" and not is_par(Assembly.GRCh38, "chrX", rec.pos):
                saw_x = True
                ploidy = (rec.gt != -2).sum(axis=1)
                assert set(ploidy[male]) <= {1} and set(ploidy[~male]) <= {2}
    assert saw_x


def test_generate_cohort__trio_children_inherit_from_their_parents(cohort) -> None:  # type: ignore[no-untyped-def]
    trios = [ln.split("\t") for ln in cohort.pedigree.read_text().splitlines() if ln.split("\t")[2] != "0"]
    assert trios
    checked = consistent = 0
    for path in cohort.vcfs.values():
        header = read_header(path)
        col = {s: i for i, s in enumerate(header.samples)}
        family = [(col[c], col[f], col[m]) for _, c, f, m, *_ in trios if c in col]
        for rec in iter_records(path, header):
            if rec.chrom in ("chrX", "chrY"):
                continue
            for c, f, m in family:
                kid, dad, mum = rec.gt[c], rec.gt[f], rec.gt[m]
                if min(kid.min(), dad.min(), mum.min()) < 0:
                    continue
                checked += 1
                consistent += (kid[0] in dad and kid[1] in mum) or (kid[1] in dad and kid[0] in mum)
    assert checked > 100 and consistent / checked >= 0.99


def test_generate_cohort__carries_cyp2c19_star2_at_its_real_position(cohort) -> None:  # type: ignore[no-untyped-def]
    found = [
        (rec.ref, rec.alts, rec.id)
        for path in cohort.vcfs.values()
        for rec in iter_records(path, read_header(path))
        if rec.chrom == "chr10" and rec.pos == 94781859
    ]
    assert found and all(f == ("G", ["A"], "rs4244285") for f in found)
