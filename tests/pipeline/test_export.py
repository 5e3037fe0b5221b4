"""Cohort-wide exports: the frequency release VCF and a dataset's research genotypes (pipeline.export).

One generated national node (tests/secure_node.py) with one person's consent withdrawn. The release
is read back with bcftools and compared, allele by allele, with what NodeQueries answers (exact,
and with the public's small-count floor); the genotypes with an independent DuckDB count of the
consented people's calls. One test runs the same exports on Spark `local[2]` and compares outputs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from genomenode.access.audit import AuditLog
from genomenode.access.gate import AccessControl
from genomenode.catalog import repository as repo
from genomenode.catalog import sharing
from genomenode.cli.main import app
from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.domain.variant import Region
from genomenode.errors import AuditUnavailableError, StoreError
from genomenode.pipeline import consent
from genomenode.pipeline.export import (
    Read,
    export_frequencies,
    export_genotypes,
    info_suffixes,
    position_windows,
    read_plan,
)
from genomenode.query.service import NodeQueries
from genomenode.simulate.national import DATASET
from tests.secure_node import SecureNode, build_secure_node

Alleles = dict[tuple[str, int, str, str], dict[str, str]]
FIELDS = ("ID", "FILTER", "AC", "AN", "nhomalt", "nhemi", "AC_AFR", "AN_AFR", "AC_female", "AC_stockholm")


@dataclass(frozen=True)
class Node:
    secure: SecureNode
    withdrawn: str  # pseudonym of the person whose consent was withdrawn
    covered: set[str]  # pseudonyms whose consent allows research (as the secure-node tests decide)
    sample_names: set[str]  # every submitted sample id

    @property
    def data_dir(self) -> Path:
        return self.secure.settings.data_dir


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Node:
    secure = build_secure_node(tmp_path_factory.mktemp("export") / "node", individuals=40, seed=11)
    gate = AccessControl(secure.settings)
    try:
        withdrawn = secure.spare[0].pseudonym
        consent.withdraw(gate, gate.caller_for_token(secure.tokens["steward"]), withdrawn)
        with gate.Session() as s:
            rows = sharing.subject_rows(s)
    finally:
        gate.close()
    covered = set()
    for row in rows:
        codes = row.consent_codes or ()
        if row.consent_status == "given" and codes and codes[0] in ("GRU", "HMB", "NRES") and "NPU" not in codes:
            covered.add(row.pseudonym)
    assert withdrawn not in covered and secure.not_covered.pseudonym not in covered
    names = {name for row in rows for _, _, name in row.samples}
    return Node(secure, withdrawn, covered, names)


def cli(node: Node, *args: str, user: str | None = None) -> Any:
    env = {"GENOMENODE_TOKEN": node.secure.tokens[user]} if user else {}
    return CliRunner().invoke(app, ["--data-dir", str(node.data_dir), "export", *args], env=env)


def read_release(bcftools: str, path: Path) -> Alleles:
    fmt = "%CHROM\t%POS\t%REF\t%ALT\t" + "\t".join(f"%{f}" if f in ("ID", "FILTER") else f"%INFO/{f}" for f in FIELDS)
    out = subprocess.run([bcftools, "query", "-f", fmt + "\n", str(path)], check=True, capture_output=True, text=True)
    alleles: Alleles = {}
    for line in out.stdout.splitlines():
        chrom, pos, ref, alt, *values = line.split("\t")
        alleles[(chrom, int(pos), ref, alt)] = dict(zip(FIELDS, values, strict=True))
    return alleles


def body(bcftools: str, path: Path) -> str:
    return subprocess.run([bcftools, "view", "-H", str(path)], check=True, capture_output=True, text=True).stdout


def answers(node: Node, **ask: Any) -> dict[tuple[str, int, str, str], Any]:
    """NodeQueries' rows over every whole chromosome of the node, by allele (and stratum value)."""
    out = {}
    with NodeQueries(node.secure.settings) as q:
        chroms = sorted({c for a, c in q._current().stats_files if a == "GRCh38"})
        lengths = contig_lengths(Assembly.GRCh38)
        for chrom in chroms:
            for r in q.frequencies(region=Region(chrom, 1, lengths[chrom]), **ask).rows:
                out[(r.chrom, r.pos, r.ref, r.alt, *([r.stratum_value] if ask.get("by") else []))] = r
    return out


def n(value: int | None) -> str:
    return "." if value is None else str(value)


@pytest.fixture(scope="module")
def exact_release(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "national.vcf.gz"
    result = cli(node, "frequencies", "--out", str(out), "--exact")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def public_release(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "national-public.vcf.gz"
    result = cli(node, "frequencies", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def genotypes(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("research") / "national-demo-genotypes"
    result = cli(node, "genotypes", "--dataset", DATASET, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


# -- the frequency release ------------------------------------------------------------------------
def test_exact_release_equals_national_frequencies(node: Node, exact_release: Path, bcftools: str) -> None:
    release = read_release(bcftools, exact_release)
    expected = answers(node)
    assert release.keys() == expected.keys()
    assert len(body(bcftools, exact_release).splitlines()) == len(expected)
    for key, row in expected.items():
        got = release[key]
        assert (got["AC"], got["AN"]) == (str(row.ac), str(row.an))
        assert (got["nhomalt"], got["nhemi"]) == (n(row.hom), n(row.hemi))
        assert got["FILTER"] == (row.filters or "PASS") and got["ID"] == (row.rsid or ".")
    by_population = answers(node, by="population")
    for key, got in release.items():
        row = by_population.get((*key, "AFR"))
        assert (got["AC_AFR"], got["AN_AFR"]) == ((str(row.ac), str(row.an)) if row else ("0", "0"))
    assert exact_release.with_name(exact_release.name + ".tbi").exists()
    header = subprocess.run([bcftools, "view", "-h", str(exact_release)], capture_output=True, text=True).stdout
    assert "##FILTER=<ID=LowQual" in header and "##INFO=<ID=AC_vastra_gotaland," in header


def test_public_release_hides_small_counts_as_the_api(node: Node, public_release: Path, bcftools: str) -> None:
    floor = node.secure.settings.small_count_floor
    release = read_release(bcftools, public_release)
    expected = answers(node, floor=floor)
    assert release.keys() == expected.keys()
    shown = [int(v[f]) for v in release.values() for f in ("AC", "AC_AFR", "AC_female", "AC_stockholm") if v[f] != "."]
    assert not [ac for ac in shown if 0 < ac < floor]
    hidden = {k for k, v in release.items() if v["AC"] == "."}
    assert hidden == {k for k, r in expected.items() if r.ac is None} and hidden
    for key, row in expected.items():
        assert (release[key]["AC"], release[key]["nhomalt"]) == (n(row.ac), n(row.hom))
    for stratum, field, value in (("sex", "AC_female", "female"), ("centre", "AC_stockholm", "stockholm")):
        by = answers(node, by=stratum, floor=floor)
        for key, got in release.items():
            row = by.get((*key, value))
            assert got[field] == (n(row.ac) if row else "0"), (key, field)


def test_dataset_release(node: Node, tmp_path: Path, bcftools: str) -> None:
    out = tmp_path / "dataset.vcf.gz"
    result = cli(node, "frequencies", "--out", str(out), "--dataset", DATASET, "--exact")
    assert result.exit_code == 0, result.output
    header = subprocess.run([bcftools, "view", "-h", str(out)], capture_output=True, text=True).stdout
    assert f"##genomenode_scope={DATASET}" in header
    release = read_release(bcftools, out)
    expected = answers(node, dataset=DATASET)
    assert {k: (v["AC"], v["AN"]) for k, v in release.items()} == {
        k: (str(r.ac), str(r.an)) for k, r in expected.items()
    }


# -- genotypes --------------------------------------------------------------------------------------
def live_calls(node: Node) -> list[str]:
    gate = AccessControl(node.secure.settings)
    try:
        with gate.Session() as s:
            return [str(node.secure.settings.store_root / f.path) for f in repo.live_store_files(s, table_name="calls")]
    finally:
        gate.close()


def test_genotypes_are_the_consented_peoples_calls_by_pseudonym(node: Node, genotypes: Path) -> None:
    manifest = json.loads((genotypes / "manifest.json").read_text())
    table = pa.concat_tables([pq.read_table(genotypes / f["file"]) for f in manifest["files"]])
    people = set(table.column("individual").to_pylist())
    assert people <= node.covered and len(people) == manifest["individuals"] > 0
    assert node.withdrawn not in people and node.secure.not_covered.pseudonym not in people
    assert not people & node.sample_names
    # an independent count: the live calls parts, joined with the consented people's sample codes
    gate = AccessControl(node.secure.settings)
    try:
        with gate.Session() as s:
            rows = sharing.subject_rows(s)
    finally:
        gate.close()
    consented = [c for r in rows if r.pseudonym in node.covered for c, d, _ in r.samples if d == DATASET]
    con = duckdb.connect()
    counts = dict(
        con.execute(
            "SELECT chrom::VARCHAR, count(*) FROM read_parquet($files) "
            "WHERE list_contains($samples, sample) GROUP BY 1",
            {"files": live_calls(node), "samples": consented},
        ).fetchall()
    )
    assert {f["chrom"]: f["rows"] for f in manifest["files"]} == counts
    assert table.num_rows == manifest["rows"] == sum(counts.values())
    assert table.schema.names == [
        "individual", "chrom", "pos", "ref", "alt", "call_allele1", "call_allele2", "call_phased", "dp", "gq",
    ]  # fmt: skip
    for f in manifest["files"]:
        assert hashlib.sha256((genotypes / f["file"]).read_bytes()).hexdigest() == f["sha256"]
    assert manifest["dataset"] == DATASET and manifest["engine"] == "duckdb"
    assert sorted(p.name for p in genotypes.parent.iterdir()) == [genotypes.name]  # no partial folder left


def test_exports_are_audited(node: Node, genotypes: Path, public_release: Path) -> None:
    log = AuditLog(node.secure.settings.audit_log_path)
    entries = list(log.export(actions=["export.*"]))
    actions = {e["action"] for e in entries}
    assert {"export.genotypes", "export.frequencies"} <= actions
    assert all(e["details"].get("via") == "console" for e in entries if e["outcome"] == "allowed")


# -- failure paths ------------------------------------------------------------------------------------
def test_unknown_dataset_writes_nothing(node: Node, tmp_path: Path) -> None:
    for args in (
        ("genotypes", "--dataset", "nope", "--out", str(tmp_path / "gt")),
        ("frequencies", "--dataset", "nope", "--out", str(tmp_path / "f.vcf.gz")),
    ):
        result = cli(node, *args)
        assert result.exit_code == 1 and "no dataset 'nope'" in result.output
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_force(node: Node, tmp_path: Path, bcftools: str) -> None:
    out = tmp_path / "f.vcf.gz"
    out.write_text("keep me")
    result = cli(node, "frequencies", "--out", str(out), "--dataset", DATASET)
    assert result.exit_code == 1 and "--force" in result.output and out.read_text() == "keep me"
    folder = tmp_path / "gt"
    folder.mkdir()
    result = cli(node, "genotypes", "--dataset", DATASET, "--out", str(folder))
    assert result.exit_code == 1 and "--force" in result.output and list(folder.iterdir()) == []
    result = cli(node, "frequencies", "--out", str(out), "--dataset", DATASET, "--force")
    assert result.exit_code == 0, result.output
    assert body(bcftools, out)
    result = cli(node, "genotypes", "--dataset", DATASET, "--out", str(folder), "--force")
    assert result.exit_code == 0 and (folder / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.vcf.gz", "f.vcf.gz.tbi", "gt"]


def test_unwritable_target_and_wrong_caller(node: Node, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = cli(node, "frequencies", "--out", str(blocker / "f.vcf.gz"))
    assert result.exit_code == 1 and "does not exist" in result.output
    result = cli(node, "frequencies", "--out", str(tmp_path / "f.vcf"))
    assert result.exit_code == 1 and "*.vcf.gz" in result.output
    result = cli(node, "genotypes", "--dataset", DATASET, "--out", str(tmp_path / "gt"), user="researcher")
    assert result.exit_code == 1 and "steward" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_info_keys_and_windows(tmp_path: Path) -> None:
    keys = info_suffixes([("centre", "Västra Götaland"), ("population", "male"), ("sex", "male"), ("sex", "")])
    assert keys == {
        ("centre", "Västra Götaland"): "Vastra_Gotaland",
        ("population", "male"): "population_male",
        ("sex", "male"): "sex_male",
        ("sex", ""): "unknown",
    }
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"pos": pa.array(range(1, 1001), pa.int32())}), path, row_group_size=100)
    windows = position_windows([path], 250)
    assert windows == [(1, 301), (301, 601), (601, 901), (901, 1001)]
    small = tmp_path / "s.parquet"
    pq.write_table(pa.table({"pos": pa.array(range(1, 101), pa.int32())}), small)
    assert read_plan([("chr1", [path]), ("chr2", [small]), ("chr3", [small]), ("chr4", [small])], 250) == [
        *[Read(("chr1",), (path,), a, b) for a, b in windows],
        Read(("chr2", "chr3"), (small, small)),
        Read(("chr4",), (small,)),
    ]


# -- the same on Spark ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark_exports(node: Node, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    pytest.importorskip("pyspark")
    folder = tmp_path_factory.mktemp("spark")
    release, research = folder / "national-public.vcf.gz", folder / "genotypes"
    for args in (("frequencies", "--out", str(release)), ("genotypes", "--dataset", DATASET, "--out", str(research))):
        result = cli(node, *args, "--engine", "spark")
        assert result.exit_code == 0, result.output
    yield release, research


def test_spark_exports_equal_duckdb(
    spark_exports: tuple[Path, Path], public_release: Path, genotypes: Path, bcftools: str
) -> None:
    release, research = spark_exports
    assert body(bcftools, release) == body(bcftools, public_release)
    spark_manifest = json.loads((research / "manifest.json").read_text())
    duck_manifest = json.loads((genotypes / "manifest.json").read_text())
    assert spark_manifest["engine"] == "spark"
    assert spark_manifest["files"] == duck_manifest["files"]  # same rows, same bytes (sha256)
    for f in duck_manifest["files"]:
        assert pq.read_table(research / f["file"]).to_pylist() == pq.read_table(genotypes / f["file"]).to_pylist()


class FailingEngine:
    """A store engine whose `fail_at`-th query raises: an export cut off half-way."""

    def __init__(self, fail_at: int) -> None:
        from genomenode.store.engine import DuckDBEngine

        self.inner, self.fail_at, self.calls, self.name = DuckDBEngine(), fail_at, 0, "duckdb"

    def query(self, sql: str, **kwargs: Any) -> pa.Table:
        self.calls += 1
        if self.calls >= self.fail_at:
            raise StoreError("the store went away")
        return self.inner.query(sql, **kwargs)


def test_a_failure_half_way_leaves_nothing(node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from genomenode.cli.sharing import local_admin

    gate = AccessControl(node.secure.settings)
    common: dict[str, Any] = {"gate": gate, "caller": local_admin(), "console": True}
    try:
        with pytest.raises(StoreError):
            export_frequencies(
                node.secure.settings, out=tmp_path / "f.vcf.gz", floor=5, engine=FailingEngine(2), **common
            )
        with pytest.raises(StoreError):
            export_genotypes(
                node.secure.settings, out=tmp_path / "gt", dataset=DATASET, engine=FailingEngine(1), **common
            )
        assert list(tmp_path.iterdir()) == []
        # the audit entry comes first: when it cannot be written, nothing is read or written
        monkeypatch.setattr(gate, "record", Mock(side_effect=AuditUnavailableError("audit log unavailable")))
        engine = FailingEngine(1)
        with pytest.raises(AuditUnavailableError):
            export_genotypes(node.secure.settings, out=tmp_path / "gt", dataset=DATASET, engine=engine, **common)
        assert engine.calls == 0 and list(tmp_path.iterdir()) == []
    finally:
        gate.close()
