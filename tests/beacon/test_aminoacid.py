"""beacon.aminoacid on its own: the three annotators' protein columns, the source record's alleles,
what counts as protein annotation, and stored values that disagree with their header."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from genomenode.beacon.aminoacid import protein_matches
from genomenode.domain.protein_change import parse_protein_change
from genomenode.query.annotations import COLUMNS, AnnotatedAlleles

BCSQ = "Haplotype-aware consequence annotation from BCFtools/csq. Format: Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change"  # noqa: E501
ANN = "Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p'"  # noqa: E501
VEP_NO_HGVS = "Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL"


def _group(headers: dict[str, str], *rows: dict[str, Any]) -> AnnotatedAlleles:
    """Rows of one source record chr7:140753336 A>T,G; `info` is the INFO each allele row stored."""
    table = [
        {
            "pos": 140753336,
            "ref": "A",
            "alt": r["alt"],
            "source_pos": 140753336,
            "source_ref": "A",
            "source_alts": "T,G",
            "source_allele": r["allele"],
            "variant_info": json.dumps(r["info"]),
        }
        for r in rows
    ]
    return AnnotatedAlleles(headers, pa.Table.from_pylist(table).select(list(COLUMNS)))


def _found(groups: list[AnnotatedAlleles], gene: str, change: str) -> set[str]:
    return set(protein_matches(groups, chrom="chr7", gene=gene, change=parse_protein_change(change)).alleles)


def test_bcsq__amino_acid_change_is_read_for_the_alt_its_dna_change_names() -> None:
    value = (
        "missense|BRAF|ENST00000646891|protein_coding|-|600V>600E|140753336A>T,"
        "missense|BRAF|ENST00000646891|protein_coding|-|600V>600A|140753336A>G"
    )
    groups = [_group({"BCSQ": BCSQ}, {"alt": "T", "allele": 1, "info": {"BCSQ": value}},
                     {"alt": "G", "allele": 2, "info": {"BCSQ": value}})]  # fmt: skip
    assert _found(groups, "BRAF", "p.Val600Glu") == {"chr7-140753336-A-T"}
    assert _found(groups, "BRAF", "V600A") == {"chr7-140753336-A-G"}


def test_ann__snpeff_hgvs_p_is_read_per_allele_text() -> None:
    value = (
        "T|missense_variant|MODERATE|BRAF|ENSG00000157764|transcript|ENST00000646891.2|protein_coding|15/18|"
        "c.1799T>A|p.Val600Glu,"
        "G|missense_variant|MODERATE|BRAF|ENSG00000157764|transcript|ENST00000646891.2|protein_coding|15/18|"
        "c.1799T>C|p.Val600Ala"
    )
    groups = [_group({"ANN": ANN}, {"alt": "T", "allele": 1, "info": {"ANN": value}},
                     {"alt": "G", "allele": 2, "info": {"ANN": value}})]  # fmt: skip
    matches = protein_matches(groups, chrom="chr7", gene="BRAF", change=parse_protein_change("V600E"))
    assert set(matches.alleles) == {"chr7-140753336-A-T"} and matches.annotated
    assert matches.alleles["chr7-140753336-A-T"].molecular_attributes()["aminoacidChanges"] == ["V600E"]
    assert _found(groups, "ENSG00000157764", "V600A") == {"chr7-140753336-A-G"}  # the gene's Ensembl id too


def test_annotated__a_header_without_a_protein_column_is_no_protein_annotation() -> None:
    groups = [
        _group({"CSQ": VEP_NO_HGVS}, {"alt": "T", "allele": 1, "info": {"CSQ": "T|missense_variant|MODERATE|BRAF"}})
    ]
    matches = protein_matches(groups, chrom="chr7", gene="BRAF", change=parse_protein_change("V600E"))
    assert not matches.alleles and not matches.annotated
    [warning] = matches.warnings(gene="BRAF", chrom="chr7", assembly="GRCh38")
    assert "no file on chr7 (GRCh38) carries protein annotation" in warning
    assert protein_matches([], chrom="chr7", gene="BRAF", change=parse_protein_change("V600E")).warnings(
        gene="BRAF", chrom="chr7", assembly="GRCh38"
    )


def test_unreadable__a_stored_value_that_disagrees_with_its_header_is_skipped() -> None:
    good = "missense|BRAF|ENST00000646891|protein_coding|-|600V>600E|140753336A>T"
    groups = [_group({"BCSQ": BCSQ}, {"alt": "T", "allele": 1, "info": {"BCSQ": good}},
                     {"alt": "G", "allele": 2, "info": {"BCSQ": "missense|BRAF"}})]  # fmt: skip
    assert _found(groups, "BRAF", "V600E") == {"chr7-140753336-A-T"}
