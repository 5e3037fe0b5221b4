"""One sample's genotypes → the PGx report: diplotypes, phenotypes, missing positions, warnings,
recommendations. The output contract (issue 6; scripts depend on it):

    {"sample": ..., "genes": {"CYP2C19": {"diplotypes": ["*2/*2"], "phenotype": "Poor Metabolizer",
     "activity_score": null, "missing_positions": [...], "warnings": [...]}, ...},
     "recommendations": [...]}

`diplotypes` lists every top-scoring diplotype, best first, smaller allele first; an uncallable
gene has `"diplotypes": []` and a warning saying why. Beyond the contract each gene also says
whether the data was phased, where the call came from (`"source": "vcf" | "outside call"`) and
the alleles a lowest-function gene found; the report says whether the calls are complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from genomenode.domain.observed import ObservedGenotype
from genomenode.ingest.outside_calls import OutsideCall
from genomenode.interpret.pgx.calls import SampleCalls
from genomenode.interpret.pgx.definitions import GeneDefinition
from genomenode.interpret.pgx.matcher import GeneMatch, match_gene
from genomenode.interpret.pgx.messages import applicable
from genomenode.interpret.pgx.observations import to_calls
from genomenode.pgx.knowledge import OUTSIDE_CALL_GENES, PgxKnowledge
from genomenode.pgx.phenotyping import (
    PhenotypeCall,
    phenotype_of_match,
    phenotype_of_outside_call,
    slco1b1_by_rs4149056,
)

ATTRIBUTION = (
    "Allele definitions and phenotype maps: PharmCAT (MPL-2.0) with CPIC (CC0) and ClinPGx (CC BY-SA 4.0) "
    "content; recommendations: CPIC guideline tables (CC0) as shipped by pypgx."
)


def call_sample(
    k: PgxKnowledge,
    observed: Iterable[ObservedGenotype],
    *,
    sample: str,
    outside_calls: Sequence[OutsideCall] = (),
    source: str,
) -> dict[str, Any]:
    """The report for one sample from its genotypes at the PGx positions (any records over them)."""
    calls = to_calls(observed, k.sites)
    outside = {c.gene: c for c in outside_calls}
    genes: dict[str, dict[str, Any]] = {}
    phenotypes: dict[str, PhenotypeCall] = {}
    for gene, definition in k.definitions.items():
        if gene in outside:
            continue
        found = match_gene(definition, calls)
        phenotype = phenotype_of_match(k, found)
        if gene == "SLCO1B1" and phenotype.phenotype is None:
            phenotype = slco1b1_by_rs4149056(definition, calls, phenotype)
        phenotypes[gene] = phenotype
        genes[gene] = _gene_entry(found, phenotype)
        genes[gene]["warnings"] += _curated(k, definition, found, genes[gene]["diplotypes"], calls)
    for gene, call in outside.items():
        phenotype = phenotype_of_outside_call(k, call)
        phenotypes[gene] = phenotype
        genes[gene] = _outside_entry(call, phenotype)
    for gene in OUTSIDE_CALL_GENES:
        if gene not in genes:
            genes[gene] = _not_called_from_vcf(gene)
    incomplete = sorted(g for g, e in genes.items() if e["missing_positions"] and e.get("source") == "vcf")
    uncalled = sorted(g for g, e in genes.items() if not e["diplotypes"] and g not in OUTSIDE_CALL_GENES)
    warnings = []
    if incomplete:
        warnings.append(
            f"calls are incomplete: positions are missing for {', '.join(incomplete)} (never assumed reference; "
            "see each gene's missing_positions)"
        )
    if uncalled:
        warnings.append(f"no diplotype for {', '.join(uncalled)}: see each gene's warnings")
    recommendations = k.recommendations.for_phenotypes(
        {g: p.phenotype for g, p in phenotypes.items() if p.phenotype is not None}
    )
    return {
        "sample": sample,
        "source": source,
        "complete": not incomplete and not uncalled,
        "genes": {g: genes[g] for g in sorted(genes)},
        "recommendations": [r.as_dict() for r in recommendations],
        "warnings": warnings,
        "reference": {"pharmcat_data": k.version, "attribution": ATTRIBUTION},
    }


def _curated(
    k: PgxKnowledge, definition: GeneDefinition, found: GeneMatch, diplotypes: list[str], calls: SampleCalls
) -> list[str]:
    """PharmCAT's curated messages for this call (ambiguities unphased data cannot resolve)."""
    heterozygous = [p.label for p in definition.positions if p.key in calls and len(set(calls[p.key].alleles)) > 1]
    alleles = {a for d in found.diplotypes for a in d.alleles} | set(found.haplotypes)
    return applicable(
        k.messages,
        gene=found.gene,
        diplotypes=diplotypes,
        alleles=alleles,
        missing=found.missing_positions,
        heterozygous=heterozygous,
        phased=found.phased,
    )


def _gene_entry(found: GeneMatch, phenotype: PhenotypeCall) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "diplotypes": list(phenotype.diplotypes) or [d.name for d in found.diplotypes],
        "phenotype": phenotype.phenotype,
        "activity_score": phenotype.activity_score,
        "missing_positions": list(found.missing_positions),
        "warnings": [*found.warnings, *phenotype.warnings],
        "phased": found.phased,
        "source": "vcf",
    }
    if found.lowest_function and found.haplotypes:
        entry["alleles_found"] = list(found.haplotypes)
    if found.undocumented_positions:
        entry["undocumented_positions"] = list(found.undocumented_positions)
    return entry


def _outside_entry(call: OutsideCall, phenotype: PhenotypeCall) -> dict[str, Any]:
    return {
        "diplotypes": [call.diplotype] if call.diplotype else [],
        "phenotype": phenotype.phenotype,
        "activity_score": phenotype.activity_score,
        "missing_positions": [],
        "warnings": [f"outside call ({call.source}): overrides anything the VCF shows", *phenotype.warnings],
        "phased": None,
        "source": "outside call",
    }


def _not_called_from_vcf(gene: str) -> dict[str, Any]:
    return {
        "diplotypes": [],
        "phenotype": None,
        "activity_score": None,
        "missing_positions": [],
        "warnings": [
            f"{gene} is not called from VCF: its copy-number changes and hybrid alleles cannot be seen in "
            "variant calls; give a call from a dedicated caller (Cyrius, Aldy, StellarPGx) with --outside-call"
        ],
        "phased": None,
        "source": "none",
    }
