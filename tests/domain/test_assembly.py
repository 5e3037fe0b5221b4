from __future__ import annotations

from pathlib import Path

import pytest

from genomenode.domain.assembly import (
    Assembly,
    assembly_evidence,
    canonical_contig,
    contig_lengths,
    is_par,
    resolve_assembly,
)
from genomenode.errors import AssemblyError
from genomenode.ingest.vcf import read_header
from tests.conftest import G1K_JOINT, PLATINUM, require_testdata


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("1", "chr1"),
        ("chr1", "chr1"),
        ("CHR22", "chr22"),
        ("X", "chrX"),
        ("chrY", "chrY"),
        ("MT", "chrM"),
        ("chrM", "chrM"),
        ("M", "chrM"),
        ("NC_000022.11", "chr22"),
        ("NC_000010.10", "chr10"),
    ],
)
def test_canonical_contig__maps_every_spelling_to_grch38_style(name: str, canonical: str) -> None:
    assert canonical_contig(name) == canonical


@pytest.mark.parametrize(
    "name", ["chr23", "01", "GL000192.1", "chrUn_gl000220", "hs37d5", "chr1_KI270706v1_random", ""]
)
def test_canonical_contig__other_contigs_are_not_chromosomes(name: str) -> None:
    assert canonical_contig(name) is None


def test_contig_lengths__come_from_the_grc_reports() -> None:
    assert contig_lengths(Assembly.GRCh38)["chr1"] == 248_956_422
    assert contig_lengths(Assembly.GRCh37)["chr1"] == 249_250_621
    assert contig_lengths(Assembly.GRCh38)["chrM"] == contig_lengths(Assembly.GRCh37)["chrM"] == 16_569


def test_is_par__x_boundaries_differ_between_assemblies() -> None:
    assert is_par(Assembly.GRCh38, "chrX", 2_781_479) and not is_par(Assembly.GRCh38, "chrX", 2_781_480)
    assert is_par(Assembly.GRCh37, "chrX", 60_001) and not is_par(Assembly.GRCh37, "chrX", 60_000)
    assert not is_par(Assembly.GRCh38, "chr1", 100_000)


def test_assembly_detection__1000_genomes_header_is_grch37() -> None:
    require_testdata()
    header = read_header(G1K_JOINT)
    assert resolve_assembly(assembly_evidence(header.contigs), given=None, dataset=None, source="x") is Assembly.GRCh37


def test_assembly_detection__platinum_hg19_chrm_is_grch37() -> None:
    require_testdata()
    header = read_header(next(PLATINUM.glob("*.genome.vcf.gz")))
    evidence = assembly_evidence(header.contigs)
    assert resolve_assembly(evidence, given=None, dataset=None, source="x") is Assembly.GRCh37
    assert "chr1=54321" in evidence.unrecognised  # a truncated test header: ignored, not trusted


def test_assembly_detection__grch38_lengths() -> None:
    contigs = [(c, n) for c, n in contig_lengths(Assembly.GRCh38).items()]
    assert resolve_assembly(assembly_evidence(contigs), given=None, dataset=None, source="x") is Assembly.GRCh38


def test_assembly_detection__mixed_lengths_are_refused() -> None:
    contigs = [
        ("chr1", contig_lengths(Assembly.GRCh38)["chr1"]),
        ("chr2", contig_lengths(Assembly.GRCh37)["chr2"]),
    ]
    with pytest.raises(AssemblyError, match="different assemblies"):
        resolve_assembly(assembly_evidence(contigs), given=None, dataset=None, source="f.vcf")


def test_assembly_detection__file_of_another_assembly_than_the_dataset_is_refused() -> None:
    contigs = [("chr1", contig_lengths(Assembly.GRCh38)["chr1"])]
    with pytest.raises(AssemblyError, match="dataset is GRCh37"):
        resolve_assembly(assembly_evidence(contigs), given=None, dataset=Assembly.GRCh37, source="f.vcf")


def test_assembly_detection__no_lengths_and_no_option_is_an_unknown_assembly(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match="unknown assembly"):
        resolve_assembly(assembly_evidence([("chr1", None)]), given=None, dataset=None, source="f.vcf")
    assert (
        resolve_assembly(assembly_evidence([("chr1", None)]), given=Assembly.GRCh38, dataset=None, source="f")
        is Assembly.GRCh38
    )
