"""A synthetic national cohort: what five regional centres would send, with no real person in it.

Haplotypes come from msprime (coalescent with recombination under a five-population out-of-Africa
model, `demography`), one simulation per real GENCODE gene window (`loci`), so linkage, the
site-frequency spectrum (mostly rare variants) and population differentiation look like real
data's. On top: pharmacogenomic star alleles at their real GRCh38 positions (`pgx`); trios whose
children inherit whole parental haplotypes, with the odd de novo variant; men haploid on chrX
outside the PARs and on chrY (`sites`); HPO features, diagnoses and ages in the sample sheet
(`clinical`). Each centre's VCF holds only its own people and only sites
where one of them carries an ALT (`records`). Every random draw comes from a stream derived from
`seed`, so the same seed gives byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from genomenode.domain.assembly import Assembly
from genomenode.errors import ConfigurationError
from genomenode.ingest.vcf_writer import write_vcf
from genomenode.simulate.clinical import make_clinical
from genomenode.simulate.loci import Window, gene_windows, simulate_window
from genomenode.simulate.people import CENTRES, People, make_people, pedigree_text, sample_sheet_text
from genomenode.simulate.pgx import default_pgx_positions, pgx_blocks, reserved_positions
from genomenode.simulate.records import centre_records, header_lines
from genomenode.simulate.sites import Inheritance, SiteBlock, inheritance_at, merge_blocks

Progress = Callable[[str, int, int], None]

SIMULATING = "simulating haplotypes"
WRITING = "writing centre VCFs"
# Random streams: one per purpose, so changing one part of the simulation leaves the others' draws.
_PEOPLE, _PGX, _WINDOW, _MSPRIME, _CENTRE, _DE_NOVO, _CLINICAL = range(7)


@dataclass(frozen=True)
class CohortFiles:
    directory: Path
    vcfs: dict[str, Path]  # centre → bgzipped multi-sample VCF, sorted; centres without people have none
    sample_sheet: Path  # samples.tsv
    pedigree: Path  # families.ped
    individuals: int


def generate_cohort(
    out_dir: Path,
    *,
    individuals: int = 600,
    seed: int = 7,
    assembly: Assembly = Assembly.GRCh38,
    pgx_positions: Path | None = None,
    progress: Progress | None = None,
) -> CohortFiles:
    """Write `<centre>.vcf.gz` for each centre, samples.tsv and families.ped into `out_dir`.

    `pgx_positions` is PharmCAT's position VCF; by default the copy beside the repository is
    used when present, and without it the cohort simply has no PGx star alleles.
    """
    if individuals < 1:
        raise ValueError(f"a cohort needs at least one person, not {individuals}")
    report: Progress = progress or _no_progress
    if pgx_positions is not None and not pgx_positions.exists():
        raise ConfigurationError(f"PGx position list {pgx_positions} not found")
    positions = pgx_positions or default_pgx_positions()
    people = make_people(individuals, _rng(seed, _PEOPLE))
    people = replace(
        people, clinical=make_clinical(people.subject_id, people.father, people.mother, _rng(seed, _CLINICAL))
    )
    blocks: list[SiteBlock] = pgx_blocks(positions, people, assembly, _rng(seed, _PGX)) if positions.exists() else []
    reserved = reserved_positions(blocks)
    windows = gene_windows(assembly)
    de_novo = _de_novo_plan(windows, people, assembly, _rng(seed, _DE_NOVO))
    for i, window in enumerate(windows):
        report(SIMULATING, i, len(windows))
        blocks.append(
            simulate_window(
                window,
                people,
                assembly=assembly,
                seed=_msprime_seed(seed, i),
                rng=_rng(seed, _WINDOW, i),
                reserved=reserved.get(window.chrom, np.zeros(0, np.int64)),
                de_novo_in=de_novo.get(i, ()),
            )
        )
    report(SIMULATING, len(windows), len(windows))
    table = merge_blocks(blocks)  # PGx blocks first: they win a shared position

    out_dir.mkdir(parents=True, exist_ok=True)
    source = f"genomenode.simulate (msprime; seed={seed}, individuals={individuals})"
    vcfs: dict[str, Path] = {}
    for c, centre in enumerate(CENTRES):
        report(WRITING, c, len(CENTRES))
        members = np.flatnonzero(people.centre == c)
        if not len(members):
            continue  # a centre nobody in a tiny cohort went to sends no file
        members = members[np.argsort([people.sample_id[m] for m in members], kind="stable")]
        header = header_lines(assembly, [people.sample_id[m] for m in members], source=source)
        vcfs[centre] = out_dir / f"{centre}.vcf.gz"
        write_vcf(vcfs[centre], header, centre_records(table, members, _rng(seed, _CENTRE, c)))
    report(WRITING, len(CENTRES), len(CENTRES))
    sheet, pedigree = out_dir / "samples.tsv", out_dir / "families.ped"
    _write_text(sheet, sample_sheet_text(people))
    _write_text(pedigree, pedigree_text(people))
    return CohortFiles(out_dir, vcfs, sheet, pedigree, individuals)


def _de_novo_plan(
    windows: list[Window], people: People, assembly: Assembly, rng: np.random.Generator
) -> dict[int, list[int]]:
    """Window index → children with a de novo SNV there: one or two probands, autosomal windows."""
    children = people.children
    autosomal = [
        i
        for i, w in enumerate(windows)
        if w.chrom not in ("chrX", "chrY") and inheritance_at(assembly, w.chrom, w.start) is Inheritance.AUTOSOMAL
    ]
    if not len(children) or not autosomal:
        return {}
    chosen = rng.choice(children, size=min(len(children), int(rng.integers(1, 3))), replace=False)
    plan: dict[int, list[int]] = {}
    for child in sorted(chosen.tolist()):
        plan.setdefault(int(rng.choice(autosomal)), []).append(child)
    return plan


def _no_progress(stage: str, done: int, total: int) -> None:
    """Progress is optional; the CLI passes a rich progress bar."""


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def _msprime_seed(seed: int, window: int) -> int:
    """msprime wants a seed in 1..2**32-1; derive one per window from the cohort's seed."""
    state = np.random.SeedSequence([seed, _MSPRIME, window]).generate_state(1)
    return int(state[0]) % (2**31 - 1) + 1


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
