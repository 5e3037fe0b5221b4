"""Analyse a family: from its alleles and the proband's HPO terms to ranked, explained candidates.

The steps, cheapest first so the per-record work (annotation strings, INFO JSON) is done only for
the few thousand alleles that can still matter:
1. the proband carries the allele, and it lies in or next to an exon (gene models; `regions`);
2. its annotation (VEP CSQ, bcftools BCSQ, snpEff ANN) where the VCF carries one, else the
   gene-model class; population frequency from the cohort the family is read with (the family's
   own alleles left out) and from frequency fields the annotation carries;
3. genotype quality (GQ, DP, allele balance, FILTER) for every member;
4. the inheritance modes the family's genotypes allow (computed here, `inheritance`);
5. the phenotype match of each gene (`phenotype`), the ranking (`ranking`) and ACMG criteria.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from genomenode.cases import knowledge
from genomenode.cases.family_vcf import NEAR_EXON_CLASSES, FamilyVariants
from genomenode.domain.pedigree import Pedigree
from genomenode.errors import CaseError, listing
from genomenode.interpret.raredisease import acmg
from genomenode.interpret.raredisease.consequence import (
    AlleleConsequence,
    AnnotationFormat,
    AnnotationKind,
    annotate_record,
    parse_header,
    summarise_allele,
)
from genomenode.interpret.raredisease.inheritance import Mode, chromosome_classes, inheritance_modes
from genomenode.interpret.raredisease.mendel import mendelian_errors
from genomenode.interpret.raredisease.panels import Confidence, Panel
from genomenode.interpret.raredisease.phenotype import GeneMatch, gene_matches, score_phenotype
from genomenode.interpret.raredisease.quality import QualityFilter, apply_quality
from genomenode.interpret.raredisease.ranking import MODE_NAMES, Candidate, VariantEvidence, rank_genes
from genomenode.interpret.raredisease.regions import RegionClass
from genomenode.interpret.raredisease.scores import LOSS_OF_FUNCTION, RankingOptions, consequence_pathogenicity

# population frequency fields an annotation may carry in INFO (VEP --custom/--af_gnomad, vcfanno, ...);
# narrower than the annotation columns' POPULATION_AF: a bare INFO/AF (or AFR_AF in a 1000 Genomes
# release) is the call set's own frequency, not a reference population's
_POPULATION_AF = re.compile(r"(?i)^(.*(gnomad|exac|topmed|1000g|1kg|esp|swegen|popmax|grpmax).*_?af.*|max_af)$")
_KEEP_CLASSES: tuple[RegionClass, ...] = NEAR_EXON_CLASSES  # the same set the VCF reader pre-selects with
MAX_MENDEL_ERROR_RATE = 0.02  # above this, a trio's stated parentage is doubtful (non-paternity, sample swap)


@dataclass(frozen=True)
class CaseRequest:
    pedigree: Pedigree
    hpo: tuple[str, ...] = ()
    proband: str | None = None
    panel: Panel | None = None
    panel_confidence: Confidence = Confidence.GREEN
    quality: QualityFilter = field(default_factory=QualityFilter)
    ranking: RankingOptions = field(default_factory=RankingOptions)


@dataclass(frozen=True)
class CandidateVariant:
    rank: int
    gene: str
    chrom: str
    pos: int
    ref: str
    alt: str
    inheritance: str
    score: float
    variant_score: float
    phenotype_score: float
    consequence: str
    hgvs: str | None
    max_af: float | None
    genotypes: dict[str, str]
    acmg: tuple[str, ...]
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "gene": self.gene,
            "chrom": self.chrom,
            "pos": self.pos,
            "ref": self.ref,
            "alt": self.alt,
            "inheritance": self.inheritance,
            "score": round(self.score, 4),
            "variant_score": round(self.variant_score, 4),
            "phenotype_score": round(self.phenotype_score, 4),
            "consequence": self.consequence,
            "hgvs": self.hgvs,
            "max_af": self.max_af,
            "genotypes": self.genotypes,
            "acmg": list(self.acmg),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class CaseResult:
    proband: str
    members: tuple[str, ...]
    assembly: str
    family: str  # singleton, duo, trio, trio + 2 relatives
    cannot_tell: dict[str, tuple[str, ...]]
    hpo: tuple[str, ...]
    counts: dict[str, int]
    candidates: list[CandidateVariant]
    notes: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "proband": self.proband,
            "members": list(self.members),
            "assembly": self.assembly,
            "family": self.family,
            "cannot_tell": {k: list(v) for k, v in self.cannot_tell.items()},
            "hpo": list(self.hpo),
            "counts": self.counts,
            "settings": self.settings,
            "notes": list(self.notes),
            "candidates": [c.as_dict() for c in self.candidates],
        }


def analyse(variants: FamilyVariants, request: CaseRequest) -> CaseResult:
    pedigree = request.pedigree
    members = list(variants.members)
    proband = request.proband or pedigree.default_proband(genotyped=members)
    if proband not in members:
        raise CaseError(
            f"the proband {proband} has no genotypes in {variants.source or 'the VCF'} "
            f"(genotyped: {listing(members)}); give --proband one of them"
        )
    notes: list[str] = []
    p = members.index(proband)
    chosen = variants.selection
    if chosen is not None and chosen.proband != proband:
        raise CaseError(
            f"{variants.source or 'the VCF'} was read for the proband {chosen.proband}'s alleles, not {proband}'s; "
            "read it again with proband= this one"
        )
    table = variants.variants
    chrom = np.asarray(table["chrom"].to_pylist(), dtype=object)
    pos = table["pos"].to_numpy()
    ref_len = np.asarray(pa.compute.utf8_length(table["ref"]).to_numpy(), np.int64)
    regions = knowledge.region_index(variants.assembly).classify(chrom, pos, pos + ref_len - 1)
    near_exon = np.isin(regions.region_class, np.array([int(c) for c in _KEEP_CLASSES], np.int8))
    # exact, per allele; when the reader kept only the proband's records near exons (`selection`),
    # this is a few thousand alleles and the file's totals come from its lean pass
    carried = variants.genotypes[:, p] >= 1
    selected = np.flatnonzero(carried & near_exon)
    if chosen is not None:
        counts = {"records": chosen.records, "alleles": chosen.alleles, "carried_by_proband": chosen.proband_carries}
    else:
        counts = {"alleles": variants.n, "carried_by_proband": int(carried.sum())}
    counts["near_exons"] = int(selected.size)

    selected, evidence, details = _evidence(variants, regions, selected, request, notes)
    sub_alleles = variants.alleles[selected]
    quality = apply_quality(
        request.quality,
        sub_alleles,
        gq=variants.gq[selected],
        dp=variants.dp[selected],
        ad=variants.ad[selected],
        filters=table["variant_filter"].take(pa.array(selected)),
    )
    failed = quality.variant_failed()
    quality_reasons = quality.reasons(sample_names=members, quality=request.quality)
    evidence = VariantEvidence(evidence.gene, evidence.pathogenicity, evidence.max_af, failed == 0)
    counts["passing_quality"] = int(np.unique(selected[failed == 0]).size)  # alleles, not allele × gene

    sub_chrom = chrom[selected]
    classes = chromosome_classes(variants.assembly, sub_chrom, pos[selected])
    gene_names, gene_index = np.unique(evidence.gene.astype(str), return_inverse=True)
    gene_index = np.where(evidence.gene == "", -1, gene_index).astype(np.int64)
    modes = inheritance_modes(
        pedigree, variants.genotypes[selected], samples=members, chrom_class=classes, gene=gene_index, proband=proband
    )

    scores, index = None, None
    phenotype: dict[str, float] | None = None
    if request.hpo:
        index = knowledge.phenotype_index()
        scores = score_phenotype(index, request.hpo)
        phenotype = {g: scores.score(index, g) for g in {str(x) for x in gene_names if x} if g in index.gene_index}
    ranked = rank_genes(evidence, modes, phenotype=phenotype, options=request.ranking)
    counts["candidate_genes"] = len(ranked)
    matches: dict[str, GeneMatch] = {}
    if scores is not None and index is not None:
        known = [c.gene for c in ranked if c.gene in index.gene_index]
        matches = {m.gene: m for m in gene_matches(index, scores, known)}
    parentage = _parentage(variants, pedigree, members, proband, notes)
    rows = [
        _row(c, int(selected[r]), r, variants, evidence, details, quality_reasons, modes, matches, parentage, request)
        for c in ranked
        for r in c.rows
    ]
    return CaseResult(
        proband=proband,
        members=tuple(members),
        assembly=variants.assembly.value,
        family=modes.structure.describe(),
        cannot_tell={MODE_NAMES[m]: tuple(v) for m, v in modes.cannot_tell.items() if v},
        hpo=tuple(scores.terms) if scores is not None else (),
        counts=counts,
        candidates=rows,
        notes=tuple(notes),
        settings={
            "quality": request.quality.describe(),
            "max_af": {MODE_NAMES[m]: request.ranking.cap(m) for m in Mode},
        },
    )


@dataclass(frozen=True)
class _Details:
    consequence: npt.NDArray[np.object_]
    annotated: npt.NDArray[np.bool_]
    hgvs: list[str | None]
    annotation: list[AlleleConsequence | None]
    annotated_af: npt.NDArray[np.float64]
    population_an: npt.NDArray[np.int64]
    population_ac: npt.NDArray[np.int64]


def _evidence(
    variants: FamilyVariants,
    regions: Any,
    selected: npt.NDArray[np.int64],
    request: CaseRequest,
    notes: list[str],
) -> tuple[npt.NDArray[np.int64], VariantEvidence, _Details]:
    """The evidence of each (allele, gene) pair: rows of `selected`, repeated where an allele lies
    in more than one gene, so that each gene is scored on what the allele does to it (a variant in
    SCN1A's exon and another gene's intron counts as coding for SCN1A only).

    Returns the variant-table row of each evidence row, the evidence and the details for reasons."""
    table = variants.variants
    formats = _annotation_formats(variants.info_descriptions)
    if not formats:
        notes.append(
            "the VCF carries no CSQ/BCSQ/ANN annotation: consequences are gene-model classes (where, not what)"
        )
    infos = table["variant_info"].take(pa.array(selected)).to_pylist()
    src_ref = table["source_ref"].take(pa.array(selected)).to_pylist()
    src_alts = table["source_alts"].take(pa.array(selected)).to_pylist()
    src_pos = table["source_pos"].take(pa.array(selected)).to_pylist()
    src_allele = table["source_allele"].take(pa.array(selected)).to_pylist()
    labels = regions.labels()
    coding = knowledge.protein_coding(variants.assembly)
    floor = request.ranking.min_pathogenicity
    rows: list[int] = []  # index into `selected` of each evidence row
    genes: list[str] = []
    consequence: list[str] = []
    annotated: list[bool] = []
    hgvs: list[str | None] = []
    annotation: list[AlleleConsequence | None] = []
    annotated_af: list[float] = []
    by_models: list[int] = []  # evidence rows whose class must be taken within their own gene
    for i, row in enumerate(selected.tolist()):
        overlapping = regions.gene_rows[regions.gene_offsets[row] : regions.gene_offsets[row + 1]]
        # where genes overlap (SCN1A and SCN1A-AS1), the protein-coding ones stand for the variant
        chosen = [int(g) for g in overlapping if coding[g]] or [int(g) for g in overlapping[:1]]
        info: dict[str, Any] = json.loads(infos[i]) if infos[i] else {}
        afs = [a for a in (_number(v) for k, v in info.items() if _POPULATION_AF.match(k)) if a is not None]
        info_af = max(afs) if afs else np.nan
        allele = _annotated_allele(formats, info, src_ref[i], src_alts[i], src_pos[i], src_allele[i])
        if allele is None:
            names = [str(regions.symbols[g]) for g in chosen] or [""]
            for name in names:
                rows.append(i)
                genes.append(name)
                consequence.append(str(labels[row]))
                annotated.append(False)
                hgvs.append(None)
                annotation.append(None)
                annotated_af.append(info_af)
                if len(names) > 1:
                    by_models.append(len(rows) - 1)
            continue
        af = info_af if allele.population_af is None else float(np.fmax(info_af, allele.population_af))
        per_gene = [(allele.gene or (str(regions.symbols[chosen[0]]) if chosen else ""), allele)]
        for other in allele.genes:  # VEP's every gene, most severe first: each on its own transcripts
            if other == per_gene[0][0]:
                continue
            own = summarise_allele(allele.allele, [t for t in allele.transcripts if t.gene == other])
            if consequence_pathogenicity(own.most_severe, annotated=True) >= floor:
                per_gene.append((other, own))
        for name, found in per_gene:
            rows.append(i)
            genes.append(name)
            consequence.append(found.most_severe)
            annotated.append(True)
            hgvs.append(found.hgvsp or found.hgvsc)
            annotation.append(found)
            annotated_af.append(af)
    index = np.asarray(rows, dtype=np.int64)
    gene_array = np.asarray(genes, dtype=object)
    consequence_array = np.asarray(consequence, dtype=object)
    if by_models:
        pick = np.asarray(by_models, dtype=np.int64)
        at = selected[index[pick]]
        ref_len = np.asarray(pa.compute.utf8_length(table["ref"].take(pa.array(at))).to_numpy(), np.int64)
        start = np.asarray(table["pos"].take(pa.array(at)).to_numpy(), np.int64)
        chrom = np.asarray(table["chrom"].take(pa.array(at)).to_pylist(), dtype=object)
        consequence_array[pick] = knowledge.classes_within_genes(
            variants.assembly, chrom, start, start + ref_len - 1, gene_array[pick]
        )
    annotated_array = np.asarray(annotated, dtype=np.bool_)
    pathogenicity = np.array(
        [
            consequence_pathogenicity(str(c), annotated=bool(a))
            for c, a in zip(consequence_array, annotated_array, strict=True)
        ],
        dtype=np.float64,
    )
    if request.panel is not None:
        on_panel = request.panel.symbols(request.panel_confidence)
        gene_array = np.array([g if g in on_panel else "" for g in gene_array], dtype=object)
    at = selected[index]
    ac = variants.cohort_ac[at].astype(np.int64)
    an = variants.cohort_an[at].astype(np.int64)
    cohort_af = np.where(an > 0, ac / np.maximum(an, 1), np.nan)
    annotated_af_array = np.asarray(annotated_af, dtype=np.float64)
    max_af = np.fmax(cohort_af, annotated_af_array)
    quality_ok = np.ones(len(at), np.bool_)
    evidence = VariantEvidence(gene_array, pathogenicity, max_af, quality_ok)
    details = _Details(consequence_array, annotated_array, hgvs, annotation, annotated_af_array, an, ac)
    return at, evidence, details


def _annotated_allele(
    formats: Mapping[str, AnnotationFormat], info: Mapping[str, Any], ref: str, alts: str, pos: int, allele: int
) -> AlleleConsequence | None:
    """What the record's first CSQ/BCSQ/ANN field says of this ALT; None without one."""
    for key, fmt in formats.items():
        value = info.get(key)
        if not value:
            continue
        text = value if isinstance(value, str) else ",".join(str(v) for v in value)
        found = annotate_record(fmt, text, ref, str(alts).split(","), pos=pos)
        k = int(allele) - 1
        hit = found.alleles[k] if 0 <= k < len(found.alleles) else None
        if hit is not None:
            return hit
    return None


def _annotation_formats(descriptions: Mapping[str, str]) -> dict[str, AnnotationFormat]:
    out = {}
    for kind in AnnotationKind:
        text = descriptions.get(kind.value)
        if text:
            out[kind.value] = parse_header(kind.value, text)
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, list | tuple):
        numbers = [n for n in (_number(v) for v in value) if n is not None]
        return max(numbers) if numbers else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _parentage(
    variants: FamilyVariants, pedigree: Pedigree, members: Sequence[str], proband: str, notes: list[str]
) -> bool | None:
    """Whether the proband's genotypes agree with the stated parents (None: no parent genotyped)."""
    father, mother = pedigree.parents_of(proband)
    if father is None or mother is None or father.id not in members or mother.id not in members:
        return None
    if variants.selection is not None:  # every record's calls from the reader's lean pass, allele indices
        alleles, classes, unit = variants.selection.record_alleles, variants.selection.record_class, "records"
    else:
        table = variants.variants
        classes = chromosome_classes(
            variants.assembly, np.asarray(table["chrom"].to_pylist(), dtype=object), table["pos"].to_numpy()
        )
        alleles, unit = variants.alleles, "alleles"
    check = mendelian_errors(pedigree, alleles, samples=list(members), chrom_class=classes)
    for trio, count in zip(check.trios, check.counts(), strict=True):
        if trio.child == proband:
            tested = count.consistent + count.errors
            rate = count.errors / tested if tested else 0.0
            notes.append(f"Mendelian errors in the proband's trio: {count.errors:,} of {tested:,} tested {unit}")
            return rate <= MAX_MENDEL_ERROR_RATE
    return None


def _genotype_text(count: int) -> str:
    return {-1: "./.", 0: "0/0", 1: "0/1", 2: "1/1"}.get(count, str(count))


def _row(
    c: Candidate,
    row: int,
    sub: int,
    variants: FamilyVariants,
    evidence: VariantEvidence,
    details: _Details,
    quality_reasons: Any,
    modes: Any,
    matches: Mapping[str, GeneMatch],
    parentage: bool | None,
    request: CaseRequest,
) -> CandidateVariant:
    table = variants.variants
    record = {k: table[k][row].as_py() for k in ("chrom", "pos", "ref", "alt")}
    mode_text = MODE_NAMES[c.mode]
    if c.mode is Mode.COMPOUND_HET:
        mode_text += " (phased by the parents)" if c.phased else " (not phased: a parent is missing or carries both)"
    elif not c.confirmed:
        mode_text += " (possible: the family's genotypes cannot confirm it)"
    consequence = str(details.consequence[sub])
    source = "annotation" if details.annotated[sub] else "gene models"
    af = evidence.max_af[sub]
    reasons = [f"{mode_text}", f"{consequence} ({source})"]
    if details.hgvs[sub]:
        reasons.append(str(details.hgvs[sub]))
    an, ac = int(details.population_an[sub]), int(details.population_ac[sub])
    freq = f"cohort {ac}/{an:,} alleles" if an else "no cohort counts"
    if np.isfinite(details.annotated_af[sub]):
        freq += f"; annotated population AF {details.annotated_af[sub]:.2g}"
    reasons.append(freq)
    reasons.append(f"quality: {quality_reasons[sub] or 'pass'}")
    match = matches.get(c.gene)
    if match is not None:
        terms = [m.patient_term for m in match.matches if m.similarity >= 0.5]
        disease = f"{match.diseases[0].name} ({match.diseases[0].disease_id})" if match.diseases else "its own terms"
        reasons.append(
            f"phenotype: {len(terms)}/{len(match.matches)} terms match {disease}"
            + (f" [{', '.join(terms[:6])}]" if terms else "")
        )
    elif request.hpo:
        reasons.append("phenotype: no HPO annotation for this gene")
    allele = details.annotation[sub]
    constraint = next((k for k in allele.constraint if k.gene == c.gene), None) if allele is not None else None
    structure = modes.structure
    facts = acmg.VariantFacts(
        predicted_lof=bool(details.annotated[sub]) and consequence in LOSS_OF_FUNCTION,
        lof_low_confidence=allele is not None and allele.lof_confidence in ("LC", "OS"),
        pli=constraint.pli if constraint else None,
        loeuf=constraint.loeuf if constraint else None,
        lof_not_mechanism=_lof_not_mechanism(request.panel, c.gene),
        de_novo=bool(modes.family.has(Mode.DE_NOVO)[sub]),
        de_novo_untold=bool(modes.family.is_untold(Mode.DE_NOVO)[sub]),
        parents_genotyped=structure.parents_genotyped == 2,
        parentage_confirmed=parentage,
        population_alleles=an,
        population_carriers=ac,
        annotated_af=None if not np.isfinite(details.annotated_af[sub]) else float(details.annotated_af[sub]),
        phenotype_rank=match.rank if match else None,
        phenotype_p=match.p_value if match else None,
    )
    criteria = acmg.criteria(facts)
    return CandidateVariant(
        rank=c.rank,
        gene=c.gene,
        chrom=str(record["chrom"]),
        pos=int(record["pos"]),
        ref=str(record["ref"]),
        alt=str(record["alt"]),
        inheritance=mode_text,
        score=c.score,
        variant_score=c.variant_score,
        phenotype_score=c.phenotype_score,
        consequence=consequence,
        hgvs=details.hgvs[sub],
        max_af=None if not np.isfinite(af) else float(af),
        genotypes={m: _genotype_text(int(g)) for m, g in zip(variants.members, variants.genotypes[row], strict=True)},
        acmg=tuple(str(k) for k in criteria),
        reasons=tuple(reasons),
    )


def _lof_not_mechanism(panel: Panel | None, gene: str) -> bool:
    found = panel.gene(gene) if panel is not None else None
    return bool(found and found.lof_not_disease_mechanism)
