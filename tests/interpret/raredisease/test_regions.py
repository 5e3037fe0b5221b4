"""Coarse class from gene models: checked against bcftools csq on a hand-made gene, against a base-by-base
reading on random models, and on the installed GENCODE tables at well-known variants."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genomenode.domain.assembly import Assembly
from genomenode.errors import ConfigurationError
from genomenode.interpret.raredisease.regions import RegionClass, RegionIndex

DATA = Path(__file__).resolve().parents[2] / "data" / "raredisease"
GFF_FEATURES = {"CDS": "cds", "exon": "exon", "five_prime_UTR": "utr", "three_prime_UTR": "utr"}


def _gene1_models() -> tuple[pa.Table, pa.Table]:
    """Genes and features (introns as the gaps between a transcript's exons) from tests/data gene1.gff3."""
    genes: dict[str, list[object]] = {"gene_symbol": [], "chrom": [], "start": [], "end": []}
    features: dict[str, list[object]] = {"feature": [], "gene_symbol": [], "chrom": [], "start": [], "end": []}
    names: dict[str, str] = {}
    exons: dict[str, list[tuple[int, int]]] = {}
    parent_gene: dict[str, str] = {}
    for line in (DATA / "gene1.gff3").read_text().splitlines():
        if line.startswith("#"):
            continue
        chrom, _, kind, start, end, _, _, _, attrs = line.split("\t")
        attr = dict(a.split("=") for a in attrs.split(";"))
        if kind == "gene":
            names[attr["ID"]] = attr["Name"]
            for key, value in (
                ("gene_symbol", attr["Name"]),
                ("chrom", chrom),
                ("start", int(start)),
                ("end", int(end)),
            ):
                genes[key].append(value)
        elif kind == "transcript":
            parent_gene[attr["ID"]] = names[attr["Parent"]]
        else:
            symbol = parent_gene[attr["Parent"]]
            row = (GFF_FEATURES[kind], symbol, chrom, int(start), int(end))
            for key, value in zip(features, row, strict=True):
                features[key].append(value)
            if kind == "exon":
                exons.setdefault(attr["Parent"], []).append((int(start), int(end)))
    for transcript, spans in exons.items():
        spans.sort()
        for (_, left_end), (right_start, _) in itertools.pairwise(spans):
            row = ("intron", parent_gene[transcript], "1", left_end + 1, right_start - 1)
            for key, value in zip(features, row, strict=True):
                features[key].append(value)
    return pa.table(genes), pa.table(features)


def test_classes__agree_with_bcftools_csq_base_by_base() -> None:
    # GIVEN bcftools csq's consequence of a SNV at every base of GENE1 (tests/data/raredisease)
    expected = {}
    for line in (DATA / "gene1_bcftools_csq.tsv").read_text().splitlines()[2:]:
        pos, consequence = line.split("\t")
        expected[int(pos)] = consequence
    genes, features = _gene1_models()
    index = RegionIndex.build(genes, features)
    # WHEN the same positions are classed from the gene models alone
    positions = np.array(sorted(expected))
    found = index.classify(["1"] * len(positions), positions)
    # THEN every position bcftools annotates gets the class its consequence implies
    coding = {"missense", "synonymous", "stop_gained", "stop_lost", "start_lost", "stop_retained"}
    checked = 0
    for i, pos in enumerate(positions.tolist()):
        terms = set(expected[pos].split("&"))
        cls = RegionClass(int(found.region_class[i]))
        if terms & {"splice_donor", "splice_acceptor"}:
            assert cls is RegionClass.SPLICE_SITE, pos
        elif terms & coding:
            assert cls is RegionClass.CODING_EXON, pos
        elif "splice_region" in terms:
            assert cls in (RegionClass.SPLICE_REGION, RegionClass.CODING_EXON), pos
        elif terms & {"5_prime_utr", "3_prime_utr"}:
            assert cls is RegionClass.UTR, pos
        elif "intron" in terms:
            assert cls is RegionClass.INTRON, pos
        else:
            continue
        checked += 1
        assert bool(found.has(RegionClass.SPLICE_REGION)[i]) == ("splice_region" in terms), pos
        assert found.genes(i) == ("GENE1",)
    assert checked > 500


def test_classes__noncoding_exon_intergenic_and_unknown_contig() -> None:
    index = RegionIndex.build(*_gene1_models())
    found = index.classify(["1", "1", "1", "chr1", "chrUn_KI270742v1", "2"], [1200, 700, 10, 1001, 5, 300])
    assert found.labels().tolist() == [
        "noncoding_exon",
        "intergenic",
        "intergenic",
        "noncoding_exon",
        "unknown_contig",
        "intergenic",
    ]
    assert [found.genes(i) for i in range(6)] == [("LNC2",), (), (), ("LNC2",), (), ()]


def test_classes__without_features_a_gene_span_is_genic() -> None:
    genes, _ = _gene1_models()
    found = RegionIndex.build(genes).classify(["1", "1"], [150, 700])
    assert found.labels().tolist() == ["genic", "intergenic"]


def test_spans__a_deletion_takes_every_class_and_gene_it_covers() -> None:
    index = RegionIndex.build(*_gene1_models())
    # 195-205 covers exon bases, the donor site and intron bases; 550-1010 runs from GENE1 into LNC2.
    found = index.classify(["1", "1"], [195, 550], [205, 1010])
    assert found.labels().tolist() == ["splice_site", "utr"]
    assert found.has(RegionClass.CODING_EXON)[0] and found.has(RegionClass.INTRON)[0]
    assert found.genes(1) == ("GENE1", "LNC2")
    assert found.gene_lists().to_pylist() == [["GENE1"], ["GENE1", "LNC2"]]


def test_classify__accepts_arrow_and_unsorted_input() -> None:
    index = RegionIndex.build(*_gene1_models())
    chrom = pa.array(["1", "1", "1"]).dictionary_encode()
    found = index.classify(chrom, np.array([300, 150, 60]))
    assert found.labels().tolist() == ["intron", "coding_exon", "utr"]


def test_classify__mismatched_lengths_and_bad_tables_are_refused() -> None:
    index = RegionIndex.build(*_gene1_models())
    with pytest.raises(ValueError, match="chrom, start and end have 2, 1 and 1 values"):
        index.classify(["1", "1"], [5])
    with pytest.raises(ValueError, match="genes table lacks column"):
        RegionIndex.build(pa.table({"symbol": ["A"]}))
    with pytest.raises(ValueError, match="splice widths"):
        RegionIndex.build(_gene1_models()[0], splice_site=3, splice_region_intron=2)


# --- against a base-by-base reading -------------------------------------------------------------

_span = st.tuples(st.integers(1, 120), st.integers(0, 25)).map(lambda t: (t[0], t[0] + t[1]))


@given(
    genes=st.lists(_span, min_size=0, max_size=4),
    features=st.lists(st.tuples(st.sampled_from(["cds", "utr", "exon", "intron", "stop_codon"]), _span), max_size=8),
    queries=st.lists(st.tuples(st.integers(-5, 160), st.integers(0, 12)), min_size=1, max_size=20),
)
@settings(max_examples=150, deadline=None)
def test_classify__matches_a_base_by_base_reading(
    genes: list[tuple[int, int]], features: list[tuple[str, tuple[int, int]]], queries: list[tuple[int, int]]
) -> None:
    gene_table = pa.table(
        {
            "gene_symbol": [f"G{i}" for i in range(len(genes))],
            "chrom": ["chr1"] * len(genes),
            "start": [s for s, _ in genes],
            "end": [e for _, e in genes],
        }
    )
    feature_table = pa.table(
        {
            "feature": pa.array([k for k, _ in features], type=pa.string()),
            "chrom": pa.array(["chr1"] * len(features), type=pa.string()),
            "start": pa.array([s for _, (s, _) in features], type=pa.int64()),
            "end": pa.array([e for _, (_, e) in features], type=pa.int64()),
        }
    )
    index = RegionIndex.build(gene_table, feature_table)
    starts = np.array([max(q, 1) for q, _ in queries])
    ends = starts + np.array([w for _, w in queries])
    found = index.classify(["chr1"] * len(queries), starts, ends)

    def bits(pos: int) -> int:
        b = 0
        for kind, (s, e) in features:
            if kind in ("cds", "stop_codon") and s <= pos <= e:
                b |= 1 << RegionClass.CODING_EXON
            if kind == "utr" and s <= pos <= e:
                b |= 1 << RegionClass.UTR
            if kind == "exon" and s <= pos <= e:
                b |= 1 << RegionClass.NONCODING_EXON
            if kind == "intron" and s <= pos <= e:
                b |= 1 << RegionClass.INTRON
                # Each end is judged alone: in a short intron a base may be one end's site and the other's region.
                if pos - s < 2 or e - pos < 2:
                    b |= 1 << RegionClass.SPLICE_SITE
                if 2 <= pos - s < 8 or 2 <= e - pos < 8:
                    b |= 1 << RegionClass.SPLICE_REGION
            if kind == "intron" and (s - 3 <= pos < s or e < pos <= e + 3):
                b |= 1 << RegionClass.SPLICE_REGION
        if any(s <= pos <= e for s, e in genes):
            b |= 1 << RegionClass.GENIC
        return b

    for i, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        expected = 0
        for pos in range(lo, hi + 1):
            expected |= bits(pos)
        expected = expected or 1 << RegionClass.INTERGENIC
        assert int(found.flags[i]) == expected, (lo, hi)
        assert int(found.region_class[i]) == min(c for c in RegionClass if expected & (1 << c))
        hit = tuple(f"G{k}" for k, (s, e) in enumerate(genes) if s <= hi and e >= lo)
        assert sorted(found.genes(i)) == sorted(hit)


# --- the installed GENCODE tables ---------------------------------------------------------------


@pytest.fixture(scope="module")
def grch38() -> RegionIndex:
    from genomenode.store.genes import gene_table
    from genomenode.store.transcripts import feature_table

    try:
        return RegionIndex.build(gene_table(Assembly.GRCh38), feature_table(Assembly.GRCh38))
    except ConfigurationError as exc:
        pytest.skip(f"installed gene models missing ({exc}); run make install")


def test_installed_models__well_known_variants_lie_where_expected(grch38: RegionIndex) -> None:
    # CFTR F508del (rs113993960, chr7:117559591-117559593) and BRCA1 c.68_69del (rs80357914).
    found = grch38.classify(
        ["chr7", "chr17", "chr17"], [117559591, 43124028, 43125000], [117559593, 43124029, 43125000]
    )
    assert found.labels()[:2].tolist() == ["coding_exon", "coding_exon"]
    assert "CFTR" in found.genes(0) and "BRCA1" in found.genes(1)


def test_installed_models__millions_of_vcf_ordered_positions_in_seconds(grch38: RegionIndex) -> None:
    rng = np.random.default_rng(7)
    contigs = np.array([f"chr{i}" for i in range(1, 23)], dtype=object)
    n = 1_000_000
    chrom = pa.array(np.repeat(contigs, n // len(contigs))).dictionary_encode()
    pos = np.sort(rng.integers(1, 40_000_000, size=(len(contigs), n // len(contigs))), axis=1).ravel()
    start = time.perf_counter()
    found = grch38.classify(chrom, pos)
    elapsed = time.perf_counter() - start
    assert len(found) == len(pos)
    assert 0.3 < np.mean(found.region_class == RegionClass.INTRON) < 0.7  # about half the genome is intronic
    assert elapsed < 10  # ~0.3 s here for 1 M; generous for a loaded CI machine
