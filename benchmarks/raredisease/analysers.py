"""Running an analyser on a case, reading its ranked candidates, and finding the planted cause among them.

The real analyser is `genomenode case analyse` (one-shot mode), run as a whole process, as a user
or a pipeline would:

    genomenode case analyse --vcf FILE --ped FILE --proband ID --hpo HP:...,HP:... --assembly GRCh38 --format json

Its JSON is a list of candidates, or an object holding them under `candidates`; each candidate
has at least rank, gene, chrom, pos, ref, alt, inheritance, score and reasons. A planted allele is
found when a candidate names the same allele after both are trimmed to their minimal
representation (so `chr1`/`1` and anchored/unanchored indel spellings meet).

The stand-in (`--fake-analyser`) exists only to build and test this harness before the real
command lands: a trivial ranker (inheritance fits, coding or splice-site position, count of
patient terms the gene's HPO annotation covers), run as a process through the same contract. Its
results are never written to the docs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genomenode.domain.assembly import Assembly, canonical_contig

REPO = Path(__file__).resolve().parents[2]
GENOMENODE = REPO / ".venv" / "bin" / "genomenode"
SCRIPT = REPO / "benchmarks" / "raredisease.py"


def command(*, fake: bool) -> list[str]:
    if fake:
        return [sys.executable, str(SCRIPT), "--fake-analyse"]
    return [str(GENOMENODE), "case", "analyse"]


def available(prefix: list[str]) -> tuple[bool, str]:
    """Whether `prefix --help` runs (the real command exists once the CLI has landed)."""
    try:
        done = subprocess.run([*prefix, "--help"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return done.returncode == 0, (done.stderr or done.stdout).strip()[-500:]


@dataclass(frozen=True)
class Run:
    candidates: list[dict[str, Any]]
    seconds: float
    returncode: int
    error: str


def arguments(vcf: Path, ped: Path, proband: str, hpo: list[str], assembly: Assembly) -> list[str]:
    return [
        *("--vcf", str(vcf), "--ped", str(ped), "--proband", proband),
        *("--hpo", ",".join(hpo), "--assembly", assembly.value, "--format", "json"),
    ]


def run(prefix: list[str], args: list[str], *, timeout: float) -> Run:
    began = time.perf_counter()
    try:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Run([], time.perf_counter() - began, -1, f"timed out after {timeout:.0f} s")
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        return Run([], seconds, done.returncode, done.stderr.strip()[-2000:])
    try:
        return Run(parse_candidates(done.stdout), seconds, 0, "")
    except ValueError as exc:
        return Run([], seconds, 0, f"unreadable output: {exc}")


def parse_candidates(text: str) -> list[dict[str, Any]]:
    data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("candidates")
    if not isinstance(data, list) or not all(isinstance(c, dict) for c in data):
        raise ValueError("expected a JSON list of candidates or an object with a `candidates` list")
    return data


def minimal(chrom: str, pos: int, ref: str, alt: str) -> tuple[str, int, str, str]:
    """The allele with its shared suffix, then prefix, removed (keeping one base each), on a canonical contig."""
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return canonical_contig(chrom) or chrom, pos, ref.upper(), alt.upper()


def _rank(candidate: dict[str, Any], position: int) -> int:
    try:
        return int(candidate["rank"])
    except (KeyError, TypeError, ValueError):
        return position


@dataclass(frozen=True)
class Found:
    rank: int | None  # best rank of a candidate that is a planted allele
    gene_rank: int | None  # best rank of a candidate named after the causal gene
    reported_gene: str | None  # the gene the best planted-allele candidate is listed under


def causal_rank(candidates: list[dict[str, Any]], causal: list[tuple[str, int, str, str]], gene: str) -> Found:
    wanted = {minimal(*c) for c in causal}
    allele_rank = gene_rank = None
    reported = None
    for position, c in enumerate(candidates, start=1):
        rank = _rank(c, position)
        try:
            key = minimal(str(c["chrom"]), int(c["pos"]), str(c["ref"]), str(c["alt"]))
        except (KeyError, TypeError, ValueError):
            key = None
        if key in wanted and (allele_rank is None or rank < allele_rank):
            allele_rank, reported = rank, str(c.get("gene", ""))
        if str(c.get("gene", "")).upper() == gene.upper() and (gene_rank is None or rank < gene_rank):
            gene_rank = rank
    return Found(allele_rank, gene_rank, reported)


# -- the stand-in ranker --------------------------------------------------------------------------


def fake_analyse(argv: list[str]) -> int:
    """A trivial ranker behind the real command's arguments; prints JSON candidates."""
    from genomenode.cases.family_vcf import read_family_vcf
    from genomenode.domain.pedigree import Sex
    from genomenode.ingest.pedigree import read_ped
    from genomenode.interpret.raredisease.regions import RegionClass
    from genomenode.store.hpo import hpo_path, load_hpo
    from genomenode.store.hpo_annotations import annotations_path, load_annotations

    from .genome import region_index

    ap = argparse.ArgumentParser(prog="raredisease.py --fake-analyse")
    ap.add_argument("--vcf", type=Path, required=True)
    ap.add_argument("--ped", type=Path, required=True)
    ap.add_argument("--proband", required=True)
    ap.add_argument("--hpo", required=True)
    ap.add_argument("--assembly", type=Assembly, default=Assembly.GRCh38)
    ap.add_argument("--format", choices=("json", "tsv"), default="json")
    args = ap.parse_args(argv)
    pedigree = next(p for p in read_ped(args.ped).values() if args.proband in p)
    family = read_family_vcf(args.vcf, pedigree, assembly=args.assembly)
    father, mother = pedigree.parents_of(args.proband)
    column = {m: i for i, m in enumerate(family.members)}
    g = family.genotypes.astype(np.int64)
    child = g[:, column[args.proband]]
    dad = g[:, column[father.id]] if father is not None else np.zeros_like(child)
    mum = g[:, column[mother.id]] if mother is not None else np.zeros_like(child)
    table = family.variants
    chrom = np.asarray(table["chrom"].to_numpy(zero_copy_only=False), dtype=object)
    pos = np.asarray(table["pos"].to_numpy(), np.int64)
    refs = table["ref"].to_pylist()
    alts = table["alt"].to_pylist()
    ends = pos + np.array([len(r) for r in refs], np.int64) - 1
    regions = region_index(args.assembly).classify(chrom, pos, ends)
    damaging = regions.has(RegionClass.CODING_EXON) | regions.has(RegionClass.SPLICE_SITE)
    male = pedigree.member(args.proband).sex is Sex.MALE
    x = chrom == "chrX"
    modes = {
        "de_novo": (child >= 1) & (dad == 0) & (mum == 0),
        "homozygous": (child == 2) & (dad >= 0) & (mum >= 0),
        "x_linked": x & male & (child >= 1) & (dad == 0),
        "inherited_het": (child == 1) & ((dad == 1) ^ (mum == 1)),
    }
    first_gene = regions.gene_offsets[:-1]
    genes = np.array(
        [
            str(regions.symbols[regions.gene_rows[first_gene[i]]])
            if regions.gene_offsets[i + 1] > first_gene[i]
            else ""
            for i in range(len(pos))
        ],
        dtype=object,
    )
    from_dad = modes["inherited_het"] & (dad == 1)
    compound_genes = {str(a) for a in genes[damaging & from_dad]} & {
        str(b) for b in genes[damaging & modes["inherited_het"] & (mum == 1)]
    }
    compound = modes["inherited_het"] & np.isin(genes, list(compound_genes - {""}))
    hpo, annotations = load_hpo(hpo_path()), load_annotations(annotations_path())
    patient = [t for t in args.hpo.split(",") if hpo.exists(t)]
    rows = []
    for name, mask in (*((k, v) for k, v in modes.items() if k != "inherited_het"), ("compound_het", compound)):
        for i in np.flatnonzero(mask & damaging):
            rows.append((name, int(i)))
    scored = []
    closure: dict[str, set[str]] = {}
    for name, i in rows:
        gene = str(genes[i])
        if gene not in closure:
            closure[gene] = set().union(
                *(hpo.ancestors(t) for t in annotations.gene_terms.get(gene, ()) if hpo.exists(t))
            )
        score = sum(t in closure[gene] for t in patient) / max(1, len(patient))
        scored.append((score, name, i, gene))
    scored.sort(key=lambda s: -s[0])
    out = [
        {
            "rank": k,
            "gene": gene,
            "chrom": str(chrom[i]),
            "pos": int(pos[i]),
            "ref": refs[i],
            "alt": alts[i],
            "inheritance": name,
            "score": round(score, 4),
            "reasons": "stand-in ranker (benchmarks/raredisease.py --fake-analyser)",
        }
        for k, (score, name, i, gene) in enumerate(scored, start=1)
    ]
    print(json.dumps(out))
    return 0
