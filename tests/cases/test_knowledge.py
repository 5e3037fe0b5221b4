"""The region index kept on disk answers exactly as one built from the gene models."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from genomenode.cases import knowledge
from genomenode.domain.assembly import Assembly
from genomenode.interpret.raredisease.regions import RegionIndex
from genomenode.store.genes import gene_models_dir, gene_table
from genomenode.store.transcripts import feature_table, transcripts_path

ASSEMBLY = Assembly.GRCh37  # the smaller tables


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the installed GRCh37 gene models, and the node reading them from there."""
    shutil.copy(gene_models_dir() / f"{ASSEMBLY.value}.parquet", tmp_path)
    shutil.copy(transcripts_path(ASSEMBLY), tmp_path)
    monkeypatch.setenv("GENOMENODE_GENE_MODELS_DIR", str(tmp_path))
    knowledge.region_index.cache_clear()
    yield tmp_path
    knowledge.region_index.cache_clear()


def _classes(index: RegionIndex) -> tuple[list[int], list[int], list[list[str]]]:
    rng = np.random.default_rng(3)
    chrom = rng.choice(np.array(["chr1", "chr2", "chr7", "chrX", "chrM"], dtype=object), 20_000)
    pos = rng.integers(1, 150_000_000, 20_000)
    found = index.classify(chrom, pos, pos + rng.integers(0, 30, 20_000))
    genes = [list(found.genes(i)) for i in range(len(found))]
    return found.region_class.tolist(), found.flags.tolist(), genes


def test_region_index__kept_on_disk_and_read_back_the_same(models: Path) -> None:
    built = RegionIndex.build(gene_table(ASSEMBLY, models), feature_table(ASSEMBLY, models))
    first = knowledge.region_index(ASSEMBLY)  # builds and keeps it
    assert knowledge.region_cache_path(ASSEMBLY).exists()
    knowledge.region_index.cache_clear()
    again = knowledge.region_index(ASSEMBLY)  # from the file
    assert _classes(built) == _classes(first) == _classes(again)


def test_region_index__a_damaged_or_stale_file_is_built_again(models: Path) -> None:
    knowledge.region_index(ASSEMBLY)
    cache = knowledge.region_cache_path(ASSEMBLY)
    cache.write_bytes(b"not an npz")
    knowledge.region_index.cache_clear()
    expected = _classes(RegionIndex.build(gene_table(ASSEMBLY, models), feature_table(ASSEMBLY, models)))
    assert _classes(knowledge.region_index(ASSEMBLY)) == expected  # damaged: rebuilt
    before = cache.stat().st_mtime
    newer = before + 10
    os.utime(transcripts_path(ASSEMBLY), (newer, newer))  # the gene models changed since
    knowledge.region_index.cache_clear()
    knowledge.region_index(ASSEMBLY)
    assert cache.stat().st_mtime > before  # stale: rebuilt and kept again


def test_layers__a_gene_on_two_contigs_that_cannot_share_a_layer_is_indexed_alone() -> None:
    import pyarrow as pa

    from genomenode.cases.knowledge import _layers

    # GIVEN a PAR-like gene on chrX and chrY whose chrY row overlaps a gene already in its layer there
    models = pa.table(
        {
            "chrom": ["chrX", "chrY", "chrY", "chrY"],
            "start": [100, 50, 120, 5_000],
            "end": [200, 150, 220, 6_000],
            "gene_symbol": ["PAR1", "OTHER", "PAR1", "FAR"],
        }
    )
    layers = _layers(models)
    assert layers["PAR1"] != layers["OTHER"]  # never in one index where they overlap
    assert set(layers) == {"PAR1", "OTHER", "FAR"}
