"""DPYD and RYR1: the named alleles found, per strand or as a list, not a best diplotype.

PharmCAT method (Gene-Definition-Exceptions "Calling DPYD named alleles", "Calling RYR1 named
alleles"): with phased or effectively phased data (homozygous everywhere, or heterozygous in one
group of calls) each strand is named by every variant allele on it (`[c.498G>A + c.2582A>G]`, or
`Reference` when it has none); with unphased data the matcher lists every variant allele found,
twice when it is on both strands, and the phenotype step takes the two lowest-function ones.
An allele's definition is read as written here (a null cell is "any base"), so a strand with two
variants names both. HapB3 (DPYD): both of its SNPs, or the exonic one alone when the intronic
rs75017182 is missing (with a warning); when they disagree the intronic SNP's own allele is
called and a warning says so.
"""

from __future__ import annotations

import numpy as np

from genomenode.interpret.pgx.definitions import BoolArray, GeneDefinition, MaskArray, sequence_name_key
from genomenode.interpret.pgx.diplotypes import Diplotype, make_diplotype
from genomenode.interpret.pgx.sample import SampleVector

HAPB3_EXONIC_RSID = "rs56038477"
HAPB3_INTRONIC_RSID = "rs75017182"


def _drop_contained(hits: list[int], defined: BoolArray) -> list[int]:
    """Leave out an allele whose positions are a strict subset of another found allele's
    (the intronic c.1129-5923C>G inside HapB3)."""
    keep = []
    for i in hits:
        inside = any(
            j != i and bool((defined[i] <= defined[j]).all()) and defined[j].sum() > defined[i].sum() for j in hits
        )
        if not inside:
            keep.append(i)
    return keep


def _strand_name(names: list[str]) -> str:
    return names[0] if len(names) == 1 else "[" + " + ".join(names) + "]"


def lowest_function_call(
    definition: GeneDefinition, sample: SampleVector
) -> tuple[tuple[Diplotype, ...], tuple[str, ...], tuple[str, ...]]:
    """(diplotypes when effectively phased, haplotypes found when not, warnings)."""
    present = sample.present
    raw = definition.raw[:, present]
    defined = definition.defined[:, present]
    variant = np.asarray(defined.any(axis=1), np.bool_)
    variant[definition.reference_index] = False
    names = definition.names
    reference = definition.reference_allele.name
    sizes = defined.sum(axis=1)

    def found(*strands: MaskArray) -> list[int]:
        hit = np.ones(raw.shape, np.bool_)
        for bits in strands:
            hit &= (raw & bits[None, :]) != 0
        hits = np.flatnonzero(variant & (hit | ~defined).all(axis=1)).tolist()
        ordered = sorted(_drop_contained(hits, defined), key=lambda i: sequence_name_key(names[i]))
        return ordered

    warnings = _hapb3_warnings(definition, sample)
    if sample.effectively_phased:
        strands = [sample.strand1] if sample.haploid else [sample.strand1, sample.strand2]
        per_strand = [found(s) for s in strands]
        labels = tuple(_strand_name([names[i] for i in hits]) if hits else reference for hits in per_strand)
        components = tuple(tuple(names[i] for i in hits) or (reference,) for hits in per_strand)
        score = int(sum(sizes[i] for hits in per_strand for i in hits))
        return (make_diplotype(labels, score, components),), (), warnings
    either = found(sample.strand1 | sample.strand2)
    both = set(found(sample.strand1, sample.strand2))
    haplotypes: list[str] = []
    for i in either:
        haplotypes.extend([names[i]] * (2 if i in both else 1))
    while len(haplotypes) < 2:
        haplotypes.append(reference)
    note = (
        f"unphased {definition.gene} data: every variant allele found is listed (twice when on both "
        "strands); the phenotype comes from the two lowest-function ones"
    )
    return (), tuple(haplotypes), (*warnings, note)


def _hapb3_warnings(definition: GeneDefinition, sample: SampleVector) -> tuple[str, ...]:
    if definition.gene != "DPYD":
        return ()
    by_rsid = {p.rsid: i for i, p in enumerate(definition.positions)}
    exon, intron = by_rsid.get(HAPB3_EXONIC_RSID), by_rsid.get(HAPB3_INTRONIC_RSID)
    if exon is None or intron is None:
        return ()
    where = {int(p): k for k, p in enumerate(sample.present.tolist())}
    if exon in where and intron not in where:
        k = where[exon]
        if sample.strand1[k] != 1 or sample.strand2[k] != 1:
            return (
                f"HapB3 called from the exonic SNP {HAPB3_EXONIC_RSID} alone: the intronic "
                f"{HAPB3_INTRONIC_RSID}, which carries the decreased function, is missing; genotype it to confirm",
            )
    if exon in where and intron in where:
        e, n = where[exon], where[intron]
        exon_alt = {int(sample.strand1[e]), int(sample.strand2[e])} - {1}
        intron_alt = {int(sample.strand1[n]), int(sample.strand2[n])} - {1}
        if bool(exon_alt) != bool(intron_alt):
            return (
                f"HapB3 SNPs disagree ({HAPB3_EXONIC_RSID} exonic vs {HAPB3_INTRONIC_RSID} intronic); "
                "the intronic SNP decides, as PharmCAT does",
            )
    return ()
