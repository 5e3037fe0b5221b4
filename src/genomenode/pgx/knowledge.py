"""The reference knowledge PGx calling reads, parsed once per process.

PharmCAT's allele definitions and phenotype maps (`store.pgx_reference`, from the folder named by
$GENOMENODE_PGX_REFERENCE or beside the checkout) and CPIC's recommendation table (shipped by
the pypgx package). Parsing the 20 definition files takes a fraction of a second, so a server or
a benchmark over thousands of samples pays it once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from genomenode.interpret.pgx.definitions import GeneDefinition, parse_definition
from genomenode.interpret.pgx.messages import Message, parse_messages
from genomenode.interpret.pgx.observations import DefinitionSite, DefinitionSites
from genomenode.interpret.pgx.phenotypes import GenePhenotypes, parse_phenotypes
from genomenode.interpret.pgx.recommendations import RecommendationTable, parse_recommendations
from genomenode.store.pgx_reference import PgxReference, load_guidelines, load_recommendations, load_reference

# The genes PharmCAT calls from a VCF (issue 6's list). CYP2D6's definition is read too, but its
# copy-number changes and hybrids are invisible in VCF calls: PharmCAT takes it as an outside call.
VCF_GENES = (
    "ABCG2",
    "CACNA1S",
    "CFTR",
    "CYP2B6",
    "CYP2C19",
    "CYP2C9",
    "CYP3A4",
    "CYP3A5",
    "CYP4F2",
    "DPYD",
    "G6PD",
    "IFNL3",
    "NAT2",
    "NUDT15",
    "RYR1",
    "SLCO1B1",
    "TPMT",
    "UGT1A1",
    "VKORC1",
)
OUTSIDE_CALL_GENES = ("CYP2D6",)


@dataclass(frozen=True)
class PgxKnowledge:
    reference: PgxReference
    definitions: Mapping[str, GeneDefinition]  # the VCF genes, in VCF_GENES order
    sites: DefinitionSites  # every position of those genes, for reading genotypes
    phenotypes: Mapping[str, GenePhenotypes]  # genes with a phenotype file in the reference
    recommendations: RecommendationTable
    messages: tuple[Message, ...] = ()

    @property
    def version(self) -> str:
        return self.reference.version


def build_knowledge(
    reference: PgxReference,
    recommendation_rows: list[dict[str, str | None]],
    guideline_rows: Sequence[dict[str, str | None]] = (),
) -> PgxKnowledge:
    definitions = {
        gene: parse_definition(reference.definitions[gene], reference.exemptions.get(gene))
        for gene in VCF_GENES
        if gene in reference.definitions
    }
    sites = DefinitionSites(
        DefinitionSite(p.chrom, p.position, p.ref, tuple(p.alts))
        for definition in definitions.values()
        for p in (*definition.positions, *definition.extra_positions)
    )
    phenotypes = {gene: parse_phenotypes(doc) for gene, doc in reference.phenotypes.items()}
    return PgxKnowledge(
        reference,
        definitions,
        sites,
        phenotypes,
        parse_recommendations(recommendation_rows, guideline_rows),
        parse_messages(reference.messages),
    )


@functools.cache
def knowledge(folder: Path | None = None) -> PgxKnowledge:
    """The node's PGx knowledge (cached per process and folder)."""
    return build_knowledge(load_reference(folder), load_recommendations(), load_guidelines())
