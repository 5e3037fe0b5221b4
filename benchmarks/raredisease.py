"""Rare-disease diagnostics benchmark: simulated solved trios through `genomenode case analyse`.

    .venv/bin/python benchmarks/raredisease.py                  (or: make raredisease-benchmark)
    .venv/bin/python benchmarks/raredisease.py --cases 10 --fake-analyser --no-write   (harness smoke run)

Accuracy: `--cases` trios (default 200), each a family's simulated background genotypes over the
exome plus one planted cause in the gene of an OMIM disease from HPO's annotations, with patient
HPO terms sampled from that disease (some dropped, some generalised, unrelated ones added), in four
modes: de novo in an AD gene, AR homozygous, AR compound heterozygous, X-linked recessive in a
son. Each case is analysed by `genomenode case analyse ... --format json` as a separate process;
the planted allele's rank gives top-1/5/10 recall, overall and per mode.

Performance (unless `--no-performance`): an exome trio and a synthetic WGS trio (~4.5 M variants a
person, simulated once into benchmarks/.work/raredisease/wgs/), each timed end to end with
`/usr/bin/time -v` (wall and max RSS); and a recessive search across `--families` AR trio exomes
(default 1,000) analysed one after another, or `--family-sample` of them with the total
extrapolated (the docs say which).

The script rewrites only the "## Rare-disease diagnostics" section of docs/benchmarks.md
(benchmarks/run.py keeps it when it rewrites the rest), and only with the real analyser:
`--fake-analyser` runs a trivial stand-in ranker through the same contract to test the harness,
and refuses to write the docs. How the cases are simulated: benchmarks/raredisease/.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import DOCS, REPO, commit, time_v, uncommitted, write_section
from raredisease import analysers, family, phenotypes, pool, report  # benchmarks/raredisease/ (the package)

from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.store.hpo import hpo_path, load_hpo
from genomenode.store.hpo_annotations import annotations_path, load_annotations

WORK = REPO / "benchmarks" / ".work" / "raredisease"
RESULTS = WORK / "results.json"  # the last real run's rows and timings
MODE_SHARE = {"de_novo": 0.30, "ar_hom": 0.25, "compound_het": 0.25, "xlr": 0.20}
KINDS = {
    "dominant": {"missense": 0.5, "stop_gained": 0.2, "frameshift": 0.2, "splice_donor": 0.05, "splice_acceptor": 0.05},
    "recessive": {
        "missense": 0.35,
        "stop_gained": 0.3,
        "frameshift": 0.25,
        "splice_donor": 0.05,
        "splice_acceptor": 0.05,
    },
}
EXOME_RUNS, WGS_RUNS = 3, 2
WGS_DE_NOVOS, WGS_DROPOUTS = 70, 1500
WGS_FORMAT = 2  # bump when the WGS trio's simulation changes


def say(text: str) -> None:
    print(text, flush=True)


@dataclass
class Case:
    id: str
    mode: str
    assembly: Assembly
    annotation: str  # a key of family.ANNOTATIONS
    disease: phenotypes.Disease
    proband_male: bool
    hpo: list[str]
    term_counts: dict[str, int]
    planted: list[family.Planted]
    vcf: Path
    ped: Path
    proband: str
    records: int
    proband_records: int

    def causal(self) -> list[tuple[str, int, str, str]]:
        return [(p.chrom, p.pos, p.ref, p.alt) for p in self.planted]


class Simulator:
    def __init__(self, founders: pool.Pool, seed: int) -> None:
        self.pool = founders
        self.seed = seed
        hpo = load_hpo(hpo_path())
        annotations = load_annotations(annotations_path())
        self.diseases = phenotypes.eligible_diseases(annotations, hpo)
        self.terms = phenotypes.TermSampler(annotations, hpo)

    def case(self, case_id: str, mode: str, assembly: Assembly, annotation: str, directory: Path, stream: int) -> Case:
        rng = np.random.default_rng([self.seed, stream])
        disease = self.diseases[mode][int(rng.integers(0, len(self.diseases[mode])))]
        founders = tuple(int(x) for x in rng.choice(self.pool.size, size=2, replace=False))
        male = True if mode == "xlr" else bool(rng.random() < 0.5)
        calls = family.exome_family(self.pool, assembly, founders, proband_male=male, rng=rng)  # type: ignore[arg-type]
        family.add_de_novos(calls, assembly, int(rng.poisson(family.DE_NOVO_PER_EXOME)), proband_male=male, rng=rng)
        family.add_dropouts(calls, int(rng.poisson(family.DROPOUTS_PER_EXOME)), rng)
        planted = self._plant(mode, assembly, disease.gene, calls, male, rng)
        hpo, counts = self.terms.sample(disease, rng)
        directory.mkdir(parents=True, exist_ok=True)
        samples = [f"{case_id}-01", f"{case_id}-02", f"{case_id}-03"]  # proband, father, mother
        vcf, ped = directory / f"{case_id}.vcf.gz", directory / f"{case_id}.ped"
        records = family.write_family_vcf(
            vcf,
            assembly,
            calls,
            planted,
            samples,
            annotation=annotation,
            source=f"benchmarks/raredisease.py (seed={self.seed}, case={case_id})",
            rng=rng,
        )
        ped.write_text(family.ped_text(case_id, samples, proband_male=male))
        carried = sum(int((c.haplotypes[:, :2] > 0).any(axis=1).sum()) for c in calls) + len(planted)
        return Case(
            case_id,
            mode,
            assembly,
            annotation,
            disease,
            male,
            hpo,
            counts,
            planted,
            vcf,
            ped,
            samples[0],
            records,
            carried,
        )

    def _plant(
        self,
        mode: str,
        assembly: Assembly,
        gene: str,
        calls: list[family.ChromCalls],
        male: bool,
        rng: np.random.Generator,
    ) -> list[family.Planted]:
        model = family.gene_model(assembly, gene)
        assert model is not None, f"{gene} was checked to have coding exons"
        chrom_calls = next(c for c in calls if c.chrom == model.chrom)
        kinds = KINDS["dominant" if mode == "de_novo" else "recessive"]
        out: list[family.Planted] = []

        def one(slots: list[int], af_share: float) -> None:
            kind = str(rng.choice(list(kinds), p=list(kinds.values())))
            while True:
                pos, ref, alt = family.plant_position(assembly, model, kind, chrom_calls, rng)
                if all(abs(pos - p.pos) > 2 * family.CLEARANCE for p in out):
                    break
            row = family.empty_row(assembly, model.chrom, pos, male)
            row[slots] = 1
            af = float(rng.uniform(5e-5, 2e-3)) if rng.random() < af_share else None
            out.append(
                family.Planted(
                    model.chrom,
                    pos,
                    ref,
                    alt,
                    kind,
                    gene,
                    tuple(int(x) for x in row),
                    af,
                    None if af is None else af * 2,
                )
            )

        dad, mum = 2 + int(rng.integers(0, 2)), 4 + int(rng.integers(0, 2))
        if mode == "de_novo":
            one([0 if rng.random() < 0.8 else 1], 0.0)
        elif mode == "ar_hom":
            one([0, 1, dad, mum], 0.4)
        elif mode == "compound_het":
            one([0, dad], 0.4)
            one([1, mum], 0.4)
        else:  # X-linked recessive: the son's one X from his carrier mother
            one([0, mum], 0.2)
        return out


def plan(args: argparse.Namespace) -> list[tuple[str, Assembly, str]]:
    """Mode, assembly and annotation per case: modes in MODE_SHARE proportions, shuffled."""
    n, seed = args.cases, args.seed
    counts = {m: round(share * n) for m, share in MODE_SHARE.items()}
    counts["de_novo"] += n - sum(counts.values())
    modes = [m for m, k in counts.items() for _ in range(k)]
    rng = np.random.default_rng([seed, 999])
    rng.shuffle(modes)
    out = []
    for m in modes:
        assembly = Assembly.GRCh37 if rng.random() < args.grch37 else Assembly.GRCh38
        u = rng.random()
        if u < args.bare:
            annotation = "bare"
        elif u < args.bare + args.annotated:
            annotation = "csq" if rng.random() < args.csq_af_only else "csq+info"
        else:
            annotation = "info"
        out.append((m, assembly, annotation))
    return out


def accuracy(sim: Simulator, prefix: list[str], args: argparse.Namespace) -> tuple[list[dict[str, Any]], list[Case]]:
    rows, cases = [], []
    directory = WORK / "cases"
    shutil.rmtree(directory, ignore_errors=True)
    for i, (mode, assembly, annotation) in enumerate(plan(args)):
        case_id = f"RD{i + 1:04d}"
        began = time.perf_counter()
        case = sim.case(case_id, mode, assembly, annotation, directory / case_id, stream=i)
        made = time.perf_counter() - began
        result = analysers.run(
            prefix,
            analysers.arguments(case.vcf, case.ped, case.proband, case.hpo, case.assembly),
            timeout=args.timeout,
        )
        found = analysers.causal_rank(result.candidates, case.causal(), case.disease.gene)
        rank, gene_rank = found.rank, found.gene_rank
        row = {
            "case": case_id,
            "mode": mode,
            "assembly": assembly.value,
            "annotation": annotation,
            "disease": case.disease.id,
            "gene": case.disease.gene,
            "kinds": ",".join(p.kind for p in case.planted),
            "causal": ";".join(f"{p.chrom}:{p.pos}:{p.ref}>{p.alt}" for p in case.planted),
            "hpo": ",".join(case.hpo),
            **case.term_counts,
            "records": case.records,
            "proband_records": case.proband_records,
            "candidates": len(result.candidates),
            "candidate_genes": len({str(c.get("gene")) for c in result.candidates}),
            "rank": rank,
            "gene_rank": gene_rank,
            "reported_gene": found.reported_gene,
            "seconds": round(result.seconds, 3),
            "error": result.error.splitlines()[-1] if result.error else "",
        }
        rows.append(row)
        cases.append(case)
        say(
            f"{case_id} {mode:<12} {assembly.value} {annotation:<8} {case.disease.gene:<10} "
            f"{row['kinds']:<24} {case.records:>6,} records (made in {made:.1f} s)  rank {rank}  "
            f"gene rank {gene_rank}  of {len(result.candidates)}  {result.seconds:.1f} s"
            + (f"  ERROR {row['error']}" if row["error"] else "")
        )
    with (WORK / "accuracy.tsv").open("w") as out:
        out.write("\t".join(rows[0]) + "\n")
        for row in rows:
            out.write("\t".join("" if v is None else str(v) for v in row.values()) + "\n")
    for k in (1, 5, 10):
        say(f"top-{k}: {report.recall(rows, k):.1%}")
    return rows, cases


# -- performance --------------------------------------------------------------------------------


def timed_runs(what: str, cmd: list[str], records: int, runs: int) -> report.Timing:
    timing = report.Timing(what, records, [], [])
    for _ in range(runs):
        wall, rss, error = time_v(cmd)
        if error:
            timing.errors.append(error)
            continue
        timing.walls.append(wall)
        timing.rss_mb.append(rss)
        say(f"{what}: {wall:.2f} s, max RSS {rss:,.0f} MB")
    return timing


def wgs_trio(seed: int) -> tuple[Path, Path, int, int]:
    """The synthetic WGS trio (built once): VCF, PED, records, median ALT-carrying sites a person."""
    directory = WORK / "wgs"
    vcf, ped, meta = directory / "wgs-trio.vcf.gz", directory / "wgs-trio.ped", directory / "wgs-trio.json"
    if meta.exists() and vcf.exists():
        info = json.loads(meta.read_text())
        if info.get("seed") == seed and info.get("format") == WGS_FORMAT:
            return vcf, ped, int(info["records"]), int(info["per_person"])
    directory.mkdir(parents=True, exist_ok=True)
    assembly = Assembly.GRCh38
    rng = np.random.default_rng([seed, 4_500_000])
    lengths = contig_lengths(assembly)
    calls = []
    began = time.perf_counter()
    tiles = pool.wgs_tiles(seed * 1000)
    say(f"WGS: {len(tiles)} stretches simulated ({time.perf_counter() - began:.0f} s)")
    for chrom in family.CHROMS:
        pos, refs, alts, founders, af = pool.wgs_founders(assembly, chrom, lengths[chrom], tiles, rng)
        h = family.trio_haplotypes(assembly, chrom, pos, founders[:2], founders[2:], proband_male=True, rng=rng)
        calls.append(family.ChromCalls(chrom, pos, refs, alts, h, af, af.copy()))
        say(f"WGS {chrom}: {len(pos):,} sites ({time.perf_counter() - began:.0f} s)")
    family.add_de_novos(calls, assembly, WGS_DE_NOVOS, proband_male=True, rng=rng, genome_wide=True)
    family.add_dropouts(calls, WGS_DROPOUTS, rng)
    samples = ["WGS-01", "WGS-02", "WGS-03"]
    records = family.write_family_vcf(
        vcf,
        assembly,
        calls,
        [],
        samples,
        annotation="info",
        source=f"benchmarks/raredisease.py WGS (seed={seed})",
        rng=rng,
    )
    ped.write_text(family.ped_text("WGS", samples, proband_male=True))
    per_person = int(statistics.median(alt_calls(vcf, s) for s in samples))
    meta.write_text(json.dumps({"format": WGS_FORMAT, "seed": seed, "records": records, "per_person": per_person}))
    say(f"WGS trio: {records:,} records, {per_person:,} a person, built in {time.perf_counter() - began:.0f} s")
    return vcf, ped, records, per_person


def alt_calls(vcf: Path, sample: str) -> int:
    """Records where `sample` is called with an ALT allele, counted by bcftools (an outside answer)."""
    subset = subprocess.Popen(["bcftools", "view", "-s", sample, "-Ou", str(vcf)], stdout=subprocess.PIPE)
    counting = subprocess.Popen(
        ["bcftools", "view", "-H", "-i", 'GT="alt"'], stdin=subset.stdout, stdout=subprocess.PIPE
    )
    assert subset.stdout is not None and counting.stdout is not None
    subset.stdout.close()
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: counting.stdout.read(1 << 20), b""))  # type: ignore[union-attr]
    if counting.wait() != 0 or subset.wait() != 0:
        raise RuntimeError(f"bcftools could not count {sample}'s calls in {vcf}")
    return lines


def recessive_search(sim: Simulator, prefix: list[str], args: argparse.Namespace) -> report.FamilySearch:
    """AR trio exomes (homozygous and compound heterozygous, alternating), analysed one after another."""
    run = min(args.family_sample or args.families, args.families)
    directory = WORK / "families"
    walls, records, failed, top5 = [], [], 0, 0
    for i in range(run):
        case_id = f"AR{i + 1:04d}"
        mode = "ar_hom" if i % 2 == 0 else "compound_het"
        assembly = Assembly.GRCh38
        case = sim.case(
            case_id, mode, assembly, ("info", "info", "csq+info", "csq")[i % 4], directory / case_id, stream=100_000 + i
        )
        result = analysers.run(
            prefix,
            analysers.arguments(case.vcf, case.ped, case.proband, case.hpo, case.assembly),
            timeout=args.timeout,
        )
        shutil.rmtree(directory / case_id)  # 1,000 VCFs would fill the disk for nothing
        walls.append(result.seconds)
        records.append(case.records)
        failed += bool(result.error)
        rank = analysers.causal_rank(result.candidates, case.causal(), case.disease.gene).rank
        top5 += rank is not None and rank <= 5
        if (i + 1) % 25 == 0 or i + 1 == run:
            say(f"recessive search: {i + 1}/{run} families, {sum(walls):.0f} s of analysis, {failed} failed")
    return report.FamilySearch(args.families, run, walls, failed, top5, records)


def publish(results: dict[str, Any], *, write: bool) -> int:
    """Print the docs section of a run's results, and write it into docs/benchmarks.md when asked."""
    settings = results["settings"]
    text = report.section(
        results["rows"],
        settings=settings,
        exome=None if results["exome"] is None else report.Timing(**results["exome"]),
        wgs=None if results["wgs"] is None else report.Timing(**results["wgs"]),
        search=None if results["search"] is None else report.FamilySearch(**results["search"]),
    )
    say("\n" + text)
    if settings["analyser"] != "genomenode case analyse":
        say("(stand-in analyser: these numbers test the harness and are not results; never written to the docs)")
    elif write:
        write_section(DOCS, report.SECTION, text)
        say(f"wrote the section to {DOCS}")
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--fake-analyse"]:
        return analysers.fake_analyse(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--grch37", type=float, default=0.25, help="share of cases on GRCh37")
    ap.add_argument("--annotated", type=float, default=0.5, help="share of cases whose VCF carries a VEP CSQ")
    ap.add_argument(
        "--csq-af-only",
        type=float,
        default=0.5,
        help="of those, the share whose gnomAD AF is only in CSQ columns (the rest also have it in INFO)",
    )
    ap.add_argument("--bare", type=float, default=0.0, help="share of cases with no annotation, not even AF")
    ap.add_argument("--families", type=int, default=1000, help="families in the recessive search")
    ap.add_argument("--family-sample", type=int, default=0, help="analyse only this many and extrapolate")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per analysis")
    ap.add_argument("--fake-analyser", action="store_true", help="the stand-in ranker (never written to the docs)")
    ap.add_argument(
        "--performance",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the timing rows (default: on with the real analyser, off with the stand-in)",
    )
    ap.add_argument("--no-write", action="store_true", help="print the section, leave docs/benchmarks.md alone")
    ap.add_argument(
        "--report-only",
        action="store_true",
        help=f"write the section again from the last real run's {RESULTS.name} (after a change to its wording)",
    )
    args = ap.parse_args()
    if args.report_only:
        return publish(json.loads(RESULTS.read_text()), write=not args.no_write)
    if args.fake_analyser and not args.no_write:
        sys.exit("the stand-in analyser's results are never published: add --no-write")
    for tool in ("bgzip", "tabix", "bcftools", "/usr/bin/time"):
        if shutil.which(tool) is None:
            sys.exit(f"missing: {tool}; install with: apt-get install tabix bcftools time")
    prefix = analysers.command(fake=args.fake_analyser)
    ok, detail = analysers.available(prefix)
    if not ok:
        sys.exit(
            f"`{' '.join(prefix)}` is not available ({detail.splitlines()[-1] if detail else 'no output'}); "
            "until `genomenode case analyse` lands, run with --fake-analyser --no-write"
        )
    performance = (not args.fake_analyser) if args.performance is None else args.performance
    load_before = os.getloadavg()[0]
    commit_start, dirty_start = commit(), uncommitted()
    founders = pool.load_or_build(WORK / "pool", seed=args.seed, progress=say)
    sim = Simulator(founders, args.seed)
    say("eligible diseases: " + ", ".join(f"{m} {len(d)}" for m, d in sim.diseases.items()))
    rows, cases = accuracy(sim, prefix, args)
    exome = wgs = search = None
    wgs_per_person = 0
    if performance:
        case = next((c for c in cases if c.assembly is Assembly.GRCh38 and c.annotation == "info"), cases[0])
        args_for = analysers.arguments(case.vcf, case.ped, case.proband, case.hpo, case.assembly)
        exome = timed_runs("exome trio", [*prefix, *args_for], case.records, EXOME_RUNS)
        vcf, ped, records, wgs_per_person = wgs_trio(args.seed)
        wgs_terms = cases[0].hpo
        wgs_args = analysers.arguments(vcf, ped, "WGS-01", wgs_terms, Assembly.GRCh38)
        wgs = timed_runs("WGS trio", [*prefix, *wgs_args], records, WGS_RUNS)
        search = recessive_search(sim, prefix, args)
    settings = {
        "analyser": "stand-in" if args.fake_analyser else "genomenode case analyse",
        "commit": commit_start,
        "commit_end": commit(),
        "uncommitted": sorted(set(dirty_start) | set(uncommitted())),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": [load_before, os.getloadavg()[0]],
        "seed": args.seed,
        "grch37": sum(1 for r in rows if r["assembly"] == "GRCh37"),
        "annotations": {a: sum(1 for r in rows if r["annotation"] == a) for a in family.ANNOTATIONS},
        "pool": founders.size,
        "wgs_per_person": wgs_per_person,
    }
    results = {
        "settings": settings,
        "rows": rows,
        "exome": None if exome is None else dataclasses.asdict(exome),
        "wgs": None if wgs is None else dataclasses.asdict(wgs),
        "search": None if search is None else dataclasses.asdict(search),
    }
    out = RESULTS if not args.fake_analyser else RESULTS.with_name("results-stand-in.json")
    out.write_text(json.dumps(results, indent=1))
    publish(results, write=not args.no_write)
    failures = [r for r in rows if r["error"]]
    if failures:
        say(f"{len(failures)} case(s) failed; first: {failures[0]['case']}: {failures[0]['error']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
