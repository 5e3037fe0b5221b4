"""The reference knowledge a case analysis reads, loaded once per process from the install-time
tables: gene models (`store.genes`, `store.transcripts`), HPO and its annotations
(`store.hpo`, `store.hpo_annotations`). Building the phenotype index takes a few seconds, so it is
cached; a server keeps it for every case it analyses. The region index (1-2 s to build) is also
kept on disk beside the gene models it comes from, rebuilt when they are newer, so a one-shot
`case analyse` starts in a fraction of a second."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from genomenode.domain.assembly import Assembly
from genomenode.interpret.raredisease.phenotype import PhenotypeIndex
from genomenode.interpret.raredisease.regions import RegionIndex
from genomenode.store.genes import gene_models_dir, gene_table
from genomenode.store.hpo import Hpo, hpo_path, load_hpo
from genomenode.store.hpo_annotations import annotations_path, load_annotations
from genomenode.store.transcripts import feature_table, transcripts_path

_REGION_ARRAYS = ("segment_bounds", "segment_flags", "segment_offsets", "segment_genes")


def region_cache_path(assembly: Assembly) -> Path:
    return gene_models_dir() / f"{assembly.value}.regions.npz"


@functools.cache
def region_index(assembly: Assembly) -> RegionIndex:
    cache = region_cache_path(assembly)
    sources = [gene_models_dir() / f"{assembly.value}.parquet", transcripts_path(assembly)]
    newest = max((p.stat().st_mtime for p in sources if p.exists()), default=0.0)
    if cache.exists() and cache.stat().st_mtime >= newest:
        try:
            with np.load(cache, allow_pickle=False) as saved:
                return RegionIndex(
                    **{name: saved[name] for name in _REGION_ARRAYS},
                    symbols=saved["symbols"].astype(object),
                    has_features=bool(saved["has_features"]),
                )
        except (OSError, KeyError, ValueError):
            pass  # unreadable or from another version: build it again
    index = RegionIndex.build(gene_table(assembly), feature_table(assembly))
    _save(cache, index)
    return index


def _save(cache: Path, index: RegionIndex) -> None:
    """Keep the index for the next process (temp file + rename); a read-only install keeps none."""
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            np.savez(
                fh,
                **{name: getattr(index, name) for name in _REGION_ARRAYS},
                symbols=index.symbols.astype(str),
                has_features=np.bool_(index.has_features),
            )
        os.replace(tmp, cache)
    except OSError:
        tmp.unlink(missing_ok=True)


@functools.cache
def protein_coding(assembly: Assembly) -> npt.NDArray[np.bool_]:
    """Per row of the gene table (the rows `RegionAnnotation.gene_rows` name): a protein-coding gene?"""
    return np.asarray(pc.equal(gene_table(assembly)["gene_type"], "protein_coding").fill_null(False).to_numpy())


def classes_within_genes(
    assembly: Assembly,
    chrom: npt.NDArray[np.object_],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    genes: npt.NDArray[np.object_],
) -> npt.NDArray[np.object_]:
    """The gene-model class label of each span counting only its paired gene's transcripts.

    Where two protein-coding genes overlap (a gene nested in another's intron, genes sharing a
    locus), the genome-wide index says what the span is in *some* transcript; scoring the variant
    under each gene needs what it is in that gene's. One small index per gene involved (~1 ms),
    built from the two tables filtered once to those genes."""
    out = np.empty(len(genes), dtype=object)
    if not len(genes):
        return out
    wanted = pa.array(sorted({str(g) for g in genes}))
    models = gene_table(assembly)
    models = models.filter(pc.is_in(models["gene_symbol"], value_set=wanted))
    features = feature_table(assembly)
    features = features.filter(pc.is_in(features["gene_symbol"], value_set=wanted))
    for gene in wanted.to_pylist():
        rows = np.flatnonzero(genes == gene)
        index = RegionIndex.build(
            models.filter(pc.equal(models["gene_symbol"], gene)),
            features.filter(pc.equal(features["gene_symbol"], gene)),
        )
        out[rows] = index.classify(chrom[rows], start[rows], end[rows]).labels()
    return out


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
