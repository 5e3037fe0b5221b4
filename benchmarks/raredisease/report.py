"""The "## Rare-disease diagnostics" section of docs/benchmarks.md, from one run's results."""

from __future__ import annotations

import statistics
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from common import changed_during, machine, pct

SECTION = "## Rare-disease diagnostics"
ANNOTATIONS = {  # family.ANNOTATIONS, in the words the docs use
    "csq": "VEP CSQ with gnomAD AF in its columns only",
    "csq+info": "VEP CSQ and gnomAD AF in INFO (vcfanno)",
    "info": "no consequences, gnomAD AF in INFO (vcfanno)",
    "bare": "no annotation at all",
}
TARGET_TOP1, TARGET_TOP5 = 0.85, 0.95
TARGET_EXOME_S, TARGET_WGS_S = 5.0, 60.0
MODE_LABELS = {
    "de_novo": "de novo (AD gene)",
    "ar_hom": "AR homozygous",
    "compound_het": "AR compound heterozygous",
    "xlr": "X-linked recessive (male proband)",
}


@dataclass
class Timing:
    what: str
    records: int
    walls: list[float]
    rss_mb: list[float]
    errors: list[str] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls) if self.walls else float("nan")


@dataclass
class FamilySearch:
    families: int  # the search the issue asks about
    run: int  # families actually analysed (all, or a sample)
    walls: list[float]
    failed: int
    top5: int  # causal allele in the top 5, of `run`
    records: list[int]

    @property
    def total(self) -> float:
        """Seconds for all `families`: measured, or the sample's mean times their number."""
        return sum(self.walls) if self.run == self.families else statistics.mean(self.walls) * self.families


def recall(rows: list[dict[str, Any]], k: int) -> float:
    return sum(1 for r in rows if r["rank"] is not None and r["rank"] <= k) / len(rows) if rows else float("nan")


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _share(rows: list[dict[str, Any]], k: int) -> str:
    hits = sum(1 for r in rows if r["rank"] is not None and r["rank"] <= k)
    return f"{hits / len(rows):.1%} ({hits}/{len(rows)})" if rows else "—"


def _provenance(settings: dict[str, Any]) -> str:
    text = (
        "Written by `benchmarks/raredisease.py` (`make raredisease-benchmark`) from one run of "
        f"`{settings['analyser']}` (one-shot mode: a VCF, a PED and HPO terms, no database) on {settings['when']}, "
        f"at commit {settings['commit']}"
    )
    changed = changed_during(settings["commit"], settings.get("commit_end", settings["commit"]))
    if changed:
        text += f"; commits {', '.join(changed)} changed src/genomenode while it ran"
    if settings.get("uncommitted"):
        text += (
            f"; the shared working tree held uncommitted changes to {len(settings['uncommitted'])} file(s) of "
            "src/genomenode during the run"
        )
    return text + "."


def _misses(rows: list[dict[str, Any]]) -> list[str]:
    """Where the cases not at rank 1 went, from the run's own data."""
    misses = [r for r in rows if r["rank"] is None or r["rank"] > 1]
    if not misses:
        return []
    csq_only = [r for r in misses if r["annotation"] == "csq"]
    other_gene = [r for r in misses if r["annotation"] != "csq" and r["gene_rank"] is None]
    rest = len(misses) - len(csq_only) - len(other_gene)
    per_annotation = {
        a: [r["candidates"] for r in rows if r["annotation"] == a and not r["error"]] for a in ("csq", "info")
    }
    items = []
    if csq_only:
        crowded = (
            per_annotation["csq"]
            and per_annotation["info"]
            and statistics.median(per_annotation["csq"]) > 3 * statistics.median(per_annotation["info"])
        )
        items.append(
            f"{len(csq_only)} had gnomAD AF only in VEP's CSQ columns; such cases have a median of "
            f"{_median(per_annotation['csq'])} candidate variants against {_median(per_annotation['info'])} with "
            "the AF in INFO" + (": the analyser does not use the frequencies VEP writes into CSQ." if crowded else ".")
        )
    if other_gene:
        names = ", ".join(f"{r['gene']} → {r.get('reported_gene') or 'not listed'}" for r in other_gene)
        items.append(
            f"{len(other_gene)} had no candidate named after the disease gene, the planted allele being listed under "
            f"another gene or not at all ({names}): without CSQ the gene of a variant comes from the gene models, "
            "where another protein-coding gene overlaps these."
        )
    if rest:
        items.append(f"{rest} had a background variant in another gene ranked above the planted one.")
    lines = ["", f"The {len(misses)} cases not at rank 1, from this run's data:", *_bullets(*items)]
    lines += [
        "",
        "| case | mode | disease gene | annotation | rank | planted allele listed under |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['case']} | {MODE_LABELS[r['mode']]} | {r['gene']} | {r['annotation']} | "
        f"{'—' if r['rank'] is None else r['rank']} | {r.get('reported_gene') or '—'} |"
        for r in misses
    ]
    return lines


def _bullets(*items: str) -> list[str]:
    """Markdown list items wrapped at 110 columns."""
    return [
        line
        for item in items
        for line in textwrap.wrap(item, 110, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False)
    ]


def _median(values: Sequence[float]) -> str:
    return f"{statistics.median(values):,.0f}" if values else "—"


def _seconds(x: float) -> str:
    return "—" if x != x else (f"{x:.2f} s" if x < 100 else f"{x / 60:.1f} min")


def section(
    rows: list[dict[str, Any]],
    *,
    settings: dict[str, Any],
    exome: Timing | None,
    wgs: Timing | None,
    search: FamilySearch | None,
) -> str:
    load = settings["load"]
    n = len(rows)
    failed = [r for r in rows if r["error"]]
    top1, top5, _top10 = (recall(rows, k) for k in (1, 5, 10))
    candidates = [r["candidates"] for r in rows if not r["error"]]
    genes = [r["candidate_genes"] for r in rows if not r["error"]]
    seconds = [r["seconds"] for r in rows if not r["error"]]
    records = [r["records"] for r in rows]
    per_person = [r["proband_records"] for r in rows]
    lines = [
        SECTION,
        "",
        *textwrap.wrap(_provenance(settings), 110, break_on_hyphens=False),
        "",
        *_bullets(
            f"Machine: {machine()}; load average {load[0]:.1f} before the run and {load[1]:.1f} after (other work "
            "shared the machine).",
            f"Cases: {n} simulated trios (seed {settings['seed']}), {settings['grch37']} on GRCh37 and the rest on "
            "GRCh38, annotated as a lab's pipeline would: "
            + "; ".join(f"{k} {ANNOTATIONS[a]}" for a, k in settings["annotations"].items() if k)
            + ". Without CSQ the analyser has only the gene models' coarse classes. Each case is analysed by one "
            "process, as a user runs it.",
            f"Background: msprime founders over the exome (coding exons ± 50 bp, ~57 Mb): {settings['pool']} "
            "simulated people under the package's five-population demography (`simulate.demography`). The parents "
            "are two of them, the child is drawn from them by Mendelian transmission with crossovers; median "
            f"{statistics.median(records):,.0f} records per trio VCF and {statistics.median(per_person):,.0f} "
            "ALT-carrying sites per proband. Every trio also gets de novo SNVs (Poisson, mean 1.3) and de novo-like "
            "parental drop-outs of rare inherited alleles (mean 3). gnomAD-like frequencies (in CSQ columns or "
            "INFO) come from the rest of the pool, the family's founders left out.",
            "Causes: one disease a case, an OMIM disease with one gene and a mode of inheritance HPO states; the "
            "causal allele(s) planted in a coding exon or at a coding splice site of that gene (missense, "
            "stop-gain, frameshift, splice donor/acceptor), with clean calls in all three members; absent from "
            "the frequency panel, or (some recessive ones) at AF 0.005-0.2%.",
            "Patient terms: 5-10 of the disease's HPO phenotype terms, 20% of them dropped, 25% of the rest "
            "replaced by a parent or grandparent, plus 1-2 unrelated terms drawn as often as diseases carry them.",
            "Rank: the analyser's `rank` of the best candidate that is a planted allele (compound heterozygous: "
            "either allele); the analyser ranks genes, so a gene's variants share a rank. A case whose planted "
            "allele is not listed counts as a miss.",
        ),
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| top-1 recall | {_share(rows, 1)} | > 85% — {_met(top1 > TARGET_TOP1)} |",
        f"| top-5 recall | {_share(rows, 5)} | > 95% — {_met(top5 > TARGET_TOP5)} |",
        f"| top-10 recall | {_share(rows, 10)} | |",
        f"| median candidates per case (variants; genes) | {_median(candidates)}; {_median(genes)} | |",
        f"| time per case (whole process) | median {_seconds(pct(seconds, 0.5))}, "
        f"p95 {_seconds(pct(seconds, 0.95))} | |",
        f"| cases the analyser failed on | {len(failed)} | 0 |",
        "| anchor: Exomiser, 742 solved 100,000 Genomes Project cases (as the issue cites it) | top-5 94% | |",
        "",
        "| cases | n | top-1 | top-5 | top-10 | median candidates (variants; genes) | cause not listed |",
        "|---|---|---|---|---|---|---|",
    ]
    groups: list[tuple[str, list[dict[str, Any]]]] = [
        (MODE_LABELS[m], [r for r in rows if r["mode"] == m]) for m in MODE_LABELS
    ]
    groups += [
        *((ANNOTATIONS[a], [r for r in rows if r["annotation"] == a]) for a in ANNOTATIONS),
        ("GRCh38", [r for r in rows if r["assembly"] == "GRCh38"]),
        ("GRCh37", [r for r in rows if r["assembly"] == "GRCh37"]),
    ]
    for label, group in groups:
        if not group:
            continue
        missing = sum(1 for r in group if r["rank"] is None)
        ok = [r for r in group if not r["error"]]
        lines.append(
            f"| {label} | {len(group)} | {_share(group, 1)} | {_share(group, 5)} | {_share(group, 10)} | "
            f"{_median([r['candidates'] for r in ok])}; {_median([r['candidate_genes'] for r in ok])} | {missing} |"
        )
    lines += _misses(rows)
    if exome or wgs or search:
        lines += ["", "| performance | input | wall time | max RSS | target |", "|---|---|---|---|---|"]
    if exome is not None:
        lines.append(
            f"| exome trio, end to end | {exome.records:,} records (one of the cases above: GRCh38, AF in INFO) | "
            f"median {_seconds(exome.wall)} of {len(exome.walls)} runs | {max(exome.rss_mb, default=0):,.0f} MB | "
            f"< 5 s — {_met(exome.wall < TARGET_EXOME_S)} |"
        )
    if wgs is not None:
        lines.append(
            f"| WGS trio, end to end | {wgs.records:,} records, {settings.get('wgs_per_person', 0):,} ALT calls "
            f"a person (median, bcftools; GRCh38, AF in INFO) | median {_seconds(wgs.wall)} of {len(wgs.walls)} runs | "
            f"{max(wgs.rss_mb, default=0):,.0f} MB | < 60 s — {_met(wgs.wall < TARGET_WGS_S)} |"
        )
    if search is not None:
        how = (
            f"all {search.families:,} analysed one after another"
            if search.run == search.families
            else f"{search.run:,} of them analysed one after another in {_seconds(sum(search.walls))}, the total "
            "extrapolated from their mean"
        )
        lines.append(
            f"| recessive search, {search.families:,} trio exomes | AR families ({how}); median "
            f"{statistics.median(search.records):,.0f} records | {_seconds(search.total)} in total, "
            f"median {_seconds(statistics.median(search.walls))} a family | | must finish — "
            f"{_met(search.failed == 0)} ({search.failed} failed; causal allele in the top 5 in "
            f"{search.top5 / max(1, search.run):.1%}) |"
        )
    lines += [
        "",
        "What is not realistic about these cases:",
        "- No reference FASTA: REF bases come from a seeded pseudo-reference (consistent within an assembly), so",
        "  sequence context means nothing, and consequences in `CSQ` are drawn from the position's class in the",
        "  gene models (missense or synonymous, frameshift or in-frame), not predicted; no HGVS, no transcript ids.",
        "- The exome background is neutral coalescent variation: coding sequence here carries as much rare",
        "  missense and LoF variation as neutral sequence would, which is more competition than purifying",
        "  selection leaves in real exomes; the pool has "
        f"{settings['pool']} people, so frequencies below ~1/{2 * settings['pool']} read as absent.",
        "- Calls are clean apart from the simulated depth, no-calls and drop-outs: no mapping artefacts, no",
        "  paralogous genes, no structural or repeat variants; every cause is a single-gene Mendelian disease",
        "  with a clean causal call, the easiest kind of solved case.",
        "- Patient terms are drawn from the disease's own annotation, which the analyser's phenotype match also",
        "  reads; real clinicians' terms overlap the annotation less. The Exomiser anchor is on real patients,",
        "  so it is a reference point, not a like-for-like comparison.",
        "- GRCh37 cases are the same simulated exome laid onto GRCh37's own coding exons, not lifted over.",
        "- The WGS trio only times the analyser: four 50 Mb stretches simulated under a constant population",
        "  size, laid end to end along every chromosome with another pair of simulated people as the parents in",
        "  each copy, plus 25,000 private alleles per parent; its frequencies come from eight other people.",
        "",
        "Reproduce: `make raredisease-benchmark` (the founder pool and the WGS trio are simulated once into",
        "`benchmarks/.work/raredisease/`; `--cases N`, `--families N`, `--family-sample N`, `--seed S`).",
    ]
    return "\n".join(lines) + "\n"
