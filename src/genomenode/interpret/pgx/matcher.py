"""PharmCAT's Named Allele Matcher in Python: one gene's diplotypes from one sample's calls.

`match_gene(definition, calls)` follows PharmCAT's published method (pharmcat.org "Named Allele
Matcher 101/201", "Gene Definition Exceptions"):
- positions without a call are missing: dropped from every named allele, listed, never assumed
  reference; a named allele whose positions are all missing cannot be called;
- phased data is matched per strand, phase sets honoured (calls in different phase sets, or
  unphased, can sit either way round); unphased data gives every top-scoring diplotype, ties kept;
- NAT2 cannot be called when one of its required positions is missing, and unphased NAT2 ties
  listed in its exemptions are resolved to the pick PharmCAT makes;
- DPYD and RYR1 use the lowest-function logic (`lowest_function`);
- undocumented variation is read as reference for CACNA1S, DPYD, G6PD, NUDT15, RYR1 and TPMT,
  and otherwise leaves the gene uncalled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from genomenode.errors import listing
from genomenode.interpret.pgx.calls import SampleCalls
from genomenode.interpret.pgx.definitions import GeneDefinition
from genomenode.interpret.pgx.diplotypes import Diplotype, consistent_diplotypes, top_scoring
from genomenode.interpret.pgx.lowest_function import lowest_function_call
from genomenode.interpret.pgx.sample import read_sample

__all__ = ["Diplotype", "GeneMatch", "match_gene"]

MAX_ALTERNATIVES = 20


@dataclass(frozen=True)
class GeneMatch:
    """One gene's call.

    `diplotypes`: every top-scoring diplotype, best first (empty when uncalled, and for DPYD/RYR1
    with unphased data, whose variant alleles are in `haplotypes`); `alternatives`: the other
    diplotypes the genotypes allow, best first (at most 20); `phased`: every heterozygous call was
    phased; `effectively_phased`: at most two strand sequences were possible (PharmCAT's term);
    `extra_positions`: (label, alleles) at the gene's extra positions (CYP2C9 rs12777823), read
    but not matched.
    """

    gene: str
    diplotypes: tuple[Diplotype, ...]
    missing_positions: tuple[str, ...]
    warnings: tuple[str, ...]
    phased: bool
    uncallable_reason: str | None = None
    effectively_phased: bool = False
    alternatives: tuple[Diplotype, ...] = ()
    haplotypes: tuple[str, ...] = ()
    lowest_function: bool = False
    undocumented_positions: tuple[str, ...] = ()
    extra_positions: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def called(self) -> bool:
        return bool(self.diplotypes or self.haplotypes)


def match_gene(definition: GeneDefinition, calls: SampleCalls) -> GeneMatch:
    """Call `definition.gene` from `calls` (keyed by (chrom, VCF POS) in the definition's notation)."""
    sample, phased = read_sample(definition, calls)
    warnings = list(sample.warnings)
    missing_amp1 = [
        p.label
        for p in definition.positions
        if p.position in definition.amp1_positions and p.position in sample.missing_keys
    ]
    if missing_amp1:
        warnings.append(f"missing AMP tier-1 position(s) {listing(missing_amp1)}: the call may miss a tier-1 allele")
    extra = tuple((p.label, calls[p.key].alleles if p.key in calls else ()) for p in definition.extra_positions)
    base = GeneMatch(
        gene=definition.gene,
        diplotypes=(),
        missing_positions=sample.missing,
        warnings=(),
        phased=phased,
        effectively_phased=sample.effectively_phased,
        lowest_function=definition.lowest_function,
        undocumented_positions=sample.undocumented,
        extra_positions=extra,
    )

    def uncalled(reason: str) -> GeneMatch:
        return replace(base, warnings=(*warnings, reason), uncallable_reason=reason)

    n = len(definition.positions)
    if sample.present.size == 0:
        return uncalled(f"no genotype at any of the {n} {definition.gene} positions: cannot call {definition.gene}")
    required_missing = [
        p.label
        for p in definition.positions
        if p.position in definition.required_positions and p.position in sample.missing_keys
    ]
    if required_missing:
        return uncalled(f"cannot call {definition.gene}: missing required position(s) {listing(required_missing)}")
    if sample.partial_alt:
        return uncalled(
            f"cannot call {definition.gene}: partial genotype (one allele missing, the other not reference) "
            f"at {listing(list(sample.partial_alt))}"
        )

    if definition.lowest_function:
        diplotypes, haplotypes, notes = lowest_function_call(definition, sample)
        return replace(base, diplotypes=diplotypes, haplotypes=haplotypes, warnings=(*warnings, *notes))

    found = consistent_diplotypes(definition, sample)
    if not found:
        if sample.undocumented and not definition.treat_undocumented_as_reference:
            return uncalled(
                f"cannot call {definition.gene}: undocumented variation at {listing(list(sample.undocumented))} "
                "(an allele no named allele has)"
            )
        return uncalled(f"cannot call {definition.gene}: no combination of named alleles matches the genotypes")
    top, rest = top_scoring(found)
    if definition.unphased_priorities and not sample.effectively_phased:
        # Gene-Definition-Exceptions "NAT2": unphased data whose possible calls include a whole
        # pick-list is called as that list's pick.
        names = {d.name for d in found}
        for priority in definition.unphased_priorities:
            if priority.diplotypes <= names:
                pick = next(d for d in found if d.name == priority.pick)
                others = [d.name for d in found if d.name in priority.diplotypes and d is not pick]
                warnings.append(
                    f"unphased {definition.gene} variants allow {listing([pick.name, *others])}; "
                    f"{pick.name} is called, as PharmCAT picks from population frequencies"
                )
                top = (pick,)
                rest = tuple(d for d in found if d is not pick)
                break
    if len(top) > 1:
        warnings.append(
            f"{len(top)} diplotypes score equally ({listing([d.name for d in top])}); phased data would tell them apart"
        )
    return replace(base, diplotypes=top, alternatives=rest[:MAX_ALTERNATIVES], warnings=tuple(warnings))
