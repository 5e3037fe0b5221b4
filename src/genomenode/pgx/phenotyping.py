"""A gene's call (matcher or outside call) → its phenotype, with the reasons a prescriber needs.

Tied diplotypes count only when their phenotypes agree; DPYD's unphased call becomes the
diplotype of its two lowest-function alleles (PharmCAT); an outside call's phenotype or activity
score is taken as given (PharmCAT: the outside call overrides), else looked up from its diplotype.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from genomenode.ingest.outside_calls import OutsideCall
from genomenode.interpret.pgx.calls import SampleCalls
from genomenode.interpret.pgx.definitions import GeneDefinition
from genomenode.interpret.pgx.matcher import GeneMatch
from genomenode.interpret.pgx.phenotypes import SLCO1B1_FALLBACK_RSID, combine_ties, slco1b1_fallback
from genomenode.pgx.knowledge import PgxKnowledge


@dataclass(frozen=True)
class PhenotypeCall:
    phenotype: str | None
    activity_score: str | None
    warnings: tuple[str, ...] = ()
    diplotypes: tuple[str, ...] = field(default=())  # set when the phenotype step names the diplotype (DPYD)


def phenotype_of_match(k: PgxKnowledge, found: GeneMatch) -> PhenotypeCall:
    table = k.phenotypes.get(found.gene)
    if not found.called:
        return PhenotypeCall(None, None)
    if table is None:
        return PhenotypeCall(None, None, (f"no phenotype map for {found.gene} in the reference data: diplotype only",))
    if found.lowest_function and not found.diplotypes:
        reference = k.definitions[found.gene].reference_allele.name
        pair = table.lowest_function_pair(found.haplotypes, reference)
        result = table.lookup(pair)
        name = "/".join(pair)
        return PhenotypeCall(
            result.phenotype,
            result.activity_score,
            (*result.warnings, f"{found.gene} lowest-function diplotype {name} from {', '.join(found.haplotypes)}"),
            (name,),
        )
    results = []
    for d in found.diplotypes:
        alleles = tuple(table.lowest_component(a) for a in d.alleles) if found.lowest_function else d.alleles
        results.append(table.lookup(alleles))
    combined = combine_ties(results, [d.name for d in found.diplotypes])
    return PhenotypeCall(combined.phenotype, combined.activity_score, combined.warnings)


def phenotype_of_outside_call(k: PgxKnowledge, call: OutsideCall) -> PhenotypeCall:
    table = k.phenotypes.get(call.gene)
    looked_up = table.lookup(call.alleles) if table is not None and call.alleles else None
    warnings: list[str] = []
    phenotype = call.phenotype or (looked_up.phenotype if looked_up else None)
    score = call.activity_score or (looked_up.activity_score if looked_up else None)
    if looked_up is not None and call.phenotype and looked_up.phenotype and looked_up.phenotype != call.phenotype:
        warnings.append(
            f"the outside call's phenotype {call.phenotype!r} differs from CPIC's for {call.diplotype} "
            f"({looked_up.phenotype!r}); the outside call's is used"
        )
    if phenotype is None:
        where = "no phenotype map for this gene in the reference data" if table is None else "not in CPIC's table"
        warnings.append(f"{call.gene} {call.diplotype or ''}: phenotype not translated ({where}); give it in the file")
    return PhenotypeCall(phenotype, score, tuple(warnings))


def slco1b1_by_rs4149056(definition: GeneDefinition, calls: SampleCalls, uncalled: PhenotypeCall) -> PhenotypeCall:
    """PharmCAT's SLCO1B1 exception: no star-allele phenotype, so CPIC's from c.521T>C alone."""
    site = next((p for p in definition.positions if p.rsid == SLCO1B1_FALLBACK_RSID), None)
    call = calls.get(site.key) if site is not None else None
    if site is None or call is None or not site.alts:
        return uncalled
    phenotype = slco1b1_fallback(call.alleles, ref=site.ref, alt=site.alts[0])
    if phenotype is None:
        return uncalled
    genotype = "/".join(call.alleles)
    note = (
        f"SLCO1B1 star alleles could not be called; phenotype from {SLCO1B1_FALLBACK_RSID} (c.521T>C) "
        f"{genotype} alone, as CPIC's statin guideline allows"
    )
    return PhenotypeCall(phenotype, None, (*uncalled.warnings, note))
