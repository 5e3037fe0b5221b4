"""The reference knowledge a case analysis reads, loaded once per process from the install-time
tables: gene models (`store.genes`, `store.transcripts`), HPO and its annotations
(`store.hpo`, `store.hpo_annotations`). Building the phenotype index takes a few seconds, so it is
cached; a server keeps it for every case it analyses."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc

from genomenode.domain.assembly import Assembly
from genomenode.interpret.raredisease.phenotype import PhenotypeIndex
from genomenode.interpret.raredisease.regions import RegionIndex
from genomenode.store.genes import gene_table
from genomenode.store.hpo import Hpo, hpo_path, load_hpo
from genomenode.store.hpo_annotations import annotations_path, load_annotations
from genomenode.store.transcripts import feature_table


@functools.cache
def region_index(assembly: Assembly) -> RegionIndex:
    return RegionIndex.build(gene_table(assembly), feature_table(assembly))


@functools.cache
def protein_coding(assembly: Assembly) -> npt.NDArray[np.bool_]:
    """Per row of the gene table (the rows `RegionAnnotation.gene_rows` name): a protein-coding gene?"""
    return np.asarray(pc.equal(gene_table(assembly)["gene_type"], "protein_coding").fill_null(False).to_numpy())


def hpo() -> Hpo:
    return load_hpo(hpo_path())


@functools.cache
def phenotype_index() -> PhenotypeIndex:
    ontology = hpo()
    annotations = load_annotations(annotations_path())
    return PhenotypeIndex.build(
        ancestors={term: ontology.ancestors(term) for term in ontology.names},
        disease_terms=annotations.disease_terms,
        disease_names=annotations.disease_names,
        disease_genes=annotations.disease_genes,
        gene_terms=annotations.gene_terms,
        aliases=ontology.aliases,
        obsolete=ontology.obsolete,
        version=ontology.version,
    )
