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


LAYER_MARGIN = 100  # bases kept between genes of one layer: splice regions reach 8 bp past an exon


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
    under each gene needs what it is in that gene's. The genes involved are dealt into layers in
    which no two overlap (greedy interval colouring; overlapping genes are rarely more than a few
    deep), and one index is built per layer: inside a gene's span, its layer's index holds only
    its own transcripts. An exome trio has ~2,000 such genes: a few indexes instead of 2,000."""
    out = np.empty(len(genes), dtype=object)
    if not len(genes):
        return out
    wanted = pa.array(sorted({str(g) for g in genes}))
    models = gene_table(assembly)
    models = models.filter(pc.is_in(models["gene_symbol"], value_set=wanted))
    features = feature_table(assembly)
    features = features.filter(pc.is_in(features["gene_symbol"], value_set=wanted))
    layers = _layers(models)
    for layer in sorted(set(layers.values())):
        members = pa.array(sorted(g for g, k in layers.items() if k == layer))
        index = RegionIndex.build(
            models.filter(pc.is_in(models["gene_symbol"], value_set=members)),
            features.filter(pc.is_in(features["gene_symbol"], value_set=members)),
        )
        rows = np.flatnonzero(np.isin(genes, np.asarray(members.to_pylist(), dtype=object)))
        out[rows] = index.classify(chrom[rows], start[rows], end[rows]).labels()
    return out


def _layers(models: pa.Table) -> dict[str, int]:
    """gene → layer, no two genes of a layer within LAYER_MARGIN of each other on any contig."""
    spans = sorted(
        zip(
            models["chrom"].to_pylist(),
            models["start"].to_pylist(),
            models["end"].to_pylist(),
            models["gene_symbol"].to_pylist(),
            strict=True,
        )
    )
    layer_of: dict[str, int] = {}
    last_end: list[dict[str, int]] = []  # per layer: contig → end of its last gene there
    alone = len(spans)  # a gene whose rows cannot share a layer (rows on two contigs) gets its own
    for contig, lo, hi, gene in spans:
        if gene in layer_of:
            layer = layer_of[gene]
            if layer >= len(last_end):  # already indexed alone
                continue
            if last_end[layer].get(contig, -LAYER_MARGIN - 1) + LAYER_MARGIN >= lo:
                layer_of[gene] = alone  # its earlier rows stay in the old layer's index too: harmless
                alone += 1
                continue
        else:
            layer = next(
                (k for k, ends in enumerate(last_end) if ends.get(contig, -LAYER_MARGIN - 1) + LAYER_MARGIN < lo),
                len(last_end),
            )
            if layer == len(last_end):
                last_end.append({})
            layer_of[gene] = layer
        last_end[layer][contig] = max(last_end[layer].get(contig, 0), hi)
    return layer_of


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
