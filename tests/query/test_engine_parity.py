"""DuckDB and Spark give the same answers over the same store, to the same questions.

Two stores: the 1000 Genomes chr22 slice as five centres delivered it (GRCh37), and a generated
national cohort as `genomenode demo` builds it (GRCh38: five regions, PGx star alleles, trios, an
annotated VEP file beside it). Each question is asked of `NodeQueries` on both engines, then of the
whole HTTP app (API, Beacon, portal) on both. Spark runs in `local[2]`, started once for this file.
The exhaustive comparison (every allele of both stores) is marked `scale` (`make test-spark`).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from genomenode.domain.variant import Region
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.query.frequencies import BY_CHOICES
from genomenode.query.pgx import PgxSite
from genomenode.query.service import NodeQueries
from genomenode.settings import Settings
from tests.conftest import G1K_BATCHES, require_testdata
from tests.web.conftest import PortalNode, build_portal_node

SPARK = {"engine": "spark", "spark_master": "local[2]", "beacon_budget": 0.0}
DUCKDB = {"beacon_budget": 0.0}  # the budget's ledger is shared state: off, so the order of asking does not matter
BRAF_VEP = Path(__file__).resolve().parents[1] / "data" / "beacon" / "braf_vep.vcf"


@pytest.fixture(scope="module")
def g1k(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    require_testdata()
    settings = Settings(data_dir=tmp_path_factory.mktemp("g1k") / "node")
    for i, path in enumerate(G1K_BATCHES):
        ingest(settings, IngestRequest(files=[path], dataset="1000g", centre=f"centre-{i + 1}"))
    return settings


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> PortalNode:
    node = build_portal_node(tmp_path_factory.mktemp("national") / "node", individuals=120)
    ingest(node.settings, IngestRequest(files=[BRAF_VEP], dataset="vep", centre="north"))
    return node


@pytest.fixture(scope="module")
def both(g1k: Settings, national: PortalNode) -> Iterator[dict[str, tuple[NodeQueries, NodeQueries]]]:
    """Per store: (DuckDB, Spark) query services over the same data dir."""
    opened = {
        name: (
            NodeQueries(settings.model_copy(update=DUCKDB)),
            NodeQueries(settings.model_copy(update=SPARK)),
        )
        for name, settings in (("g1k", g1k), ("national", national.settings))
    }
    yield opened
    for pair in opened.values():
        for q in pair:
            q.close()


def same(pair: tuple[NodeQueries, NodeQueries], ask: Callable[[NodeQueries], Any]) -> Any:
    """Ask both engines; the answers must be equal (tables compared as Python values). Returns DuckDB's."""
    duck, spark = (_plain(ask(q)) for q in pair)
    assert spark == duck
    return duck


def _plain(answer: Any) -> Any:
    if isinstance(answer, pa.Table):
        return answer.to_pylist()
    if hasattr(answer, "as_dict"):
        return answer.as_dict()
    if hasattr(answer, "calls") and hasattr(answer, "info_descriptions"):  # FamilyCalls
        return {
            "calls": answer.calls.to_pylist(),
            "info": dict(answer.info_descriptions),
            "schema": answer.calls.schema,
        }
    return answer


def _alleles(q: NodeQueries, chrom: str, assembly: str) -> list[str]:
    cells = q.variant_cells(assembly=assembly, chrom=chrom, region=Region(chrom, 1, 300_000_000))
    return sorted(
        {
            f"{c}-{p}-{r}-{a}"
            for c, p, r, a in zip(*(cells[k].to_pylist() for k in ("chrom", "pos", "ref", "alt")), strict=True)
        }
    )


# -- the query service ------------------------------------------------------------------------------


def test_engine_is_what_the_settings_name(both: dict[str, tuple[NodeQueries, NodeQueries]]) -> None:
    duck, spark = both["g1k"]
    assert (duck.store_engine.name, spark.store_engine.name) == ("duckdb", "spark")


@pytest.mark.parametrize("by", [None, *BY_CHOICES])
@pytest.mark.parametrize("floor", [None, 5])
def test_region_frequencies_are_equal_for_every_stratum_and_floor(
    both: dict[str, tuple[NodeQueries, NodeQueries]], by: str | None, floor: int | None
) -> None:
    # GIVEN the 1000 Genomes slice (a span with SNVs, indels and multi-allelic sites)
    # WHEN a 200 kb region is asked by stratum, exact and with small counts hidden
    answer = same(
        both["g1k"], lambda q: q.frequencies(region=Region("chr22", 16_100_000, 16_300_000), by=by, floor=floor)
    )
    # THEN both engines give the same rows, and there are rows to compare
    assert len(answer["variants"]) > 100


def test_gene_frequencies_pass_only_and_dataset_scope_are_equal(
    both: dict[str, tuple[NodeQueries, NodeQueries]],
) -> None:
    pair = both["national"]
    assert same(pair, lambda q: q.frequencies(gene="CYP2C19", dataset="national-demo", floor=5))["variants"]
    same(pair, lambda q: q.frequencies(gene="CYP2D6", pass_only=True))
    same(pair, lambda q: q.frequencies(gene="BRAF", by="centre"))


def test_single_variants_are_equal_with_every_stratum_and_dataset(
    both: dict[str, tuple[NodeQueries, NodeQueries]],
) -> None:
    duck = both["g1k"][0]
    alleles = _alleles(duck, "chr22", "GRCh37")
    for variant in alleles[:: max(1, len(alleles) // 12)]:
        same(both["g1k"], lambda q, v=variant: q.variant(v))
        same(both["g1k"], lambda q, v=variant: q.variant(v, dataset="1000g", floor=5))


def test_cells_and_carriers_the_beacon_reads_are_equal(both: dict[str, tuple[NodeQueries, NodeQueries]]) -> None:
    pair = both["g1k"]
    positions = sorted({int(a.split("-")[1]) for a in _alleles(pair[0], "chr22", "GRCh37")})
    few, many = positions[5:8], positions[100:400]  # point reads, and one scan
    assert same(pair, lambda q: q.variant_cells(assembly="GRCh37", chrom="chr22", positions=few))
    same(
        pair,
        lambda q: q.variant_cells(assembly="GRCh37", chrom="chr22", region=Region("chr22", 16_050_000, 16_060_000)),
    )

    def carriers(q: NodeQueries, at: list[int]) -> list[tuple[Any, ...]]:
        t = q.carriers(assembly="GRCh37", chrom="chr22", positions=at)
        return sorted(zip(*(t[c].to_pylist() for c in t.column_names), strict=True))

    assert same(pair, lambda q: carriers(q, few))
    assert same(pair, lambda q: carriers(q, many))
    assert same(pair, lambda q: q.variant_cells(assembly="GRCh37", chrom="chr21", positions=few)) == []


def test_rsid_search_is_equal(both: dict[str, tuple[NodeQueries, NodeQueries]]) -> None:
    assert same(both["national"], lambda q: q.variants_named("rs113488022")) == [
        "chr7-140753336-A-G",
        "chr7-140753336-A-T",
    ]
    assert same(both["national"], lambda q: q.variants_named("rs0")) == []


def test_individual_genotypes_family_calls_and_pgx_genotypes_are_equal(
    both: dict[str, tuple[NodeQueries, NodeQueries]],
) -> None:
    pair = both["national"]
    samples = {i: f"person-{i}" for i in range(1, 30)}
    assert same(
        pair, lambda q: q.genotypes(assembly="GRCh38", region=Region("chr10", 94_700_000, 94_900_000), samples=samples)
    )
    family = same(pair, lambda q: q.family_calls(assembly="GRCh38", samples=[1, 2, 3, 121, 122, 123]))
    assert family["calls"]
    sites = [PgxSite("chr10", 94_781_859, "G"), PgxSite("chr10", 94_842_866, "A"), PgxSite("chr22", 42_127_941, "G")]
    observed = same(pair, lambda q: q.pgx_genotypes(assembly="GRCh38", samples=list(range(1, 121)), sites=sites))
    assert any(observed.values())


def test_annotated_alleles_beacon_parses_are_equal(both: dict[str, tuple[NodeQueries, NodeQueries]]) -> None:
    def groups(q: NodeQueries) -> list[tuple[dict[str, str], list[dict[str, Any]]]]:
        found = q.annotated_alleles(assembly="GRCh38", region=Region("chr7", 140_700_000, 140_800_000))
        return sorted(((dict(g.headers), g.rows.to_pylist()) for g in found), key=lambda g: json.dumps(g[0]))

    assert same(both["national"], groups)[0][1]


# -- the served node: API, Beacon and portal on both engines --------------------------------------


@pytest.fixture(scope="module")
def clients(national: PortalNode) -> Iterator[tuple[TestClient, TestClient]]:
    from genomenode.web.app import create_app

    with (
        TestClient(create_app(national.settings.model_copy(update=DUCKDB))) as duck,
        TestClient(create_app(national.settings.model_copy(update=SPARK))) as spark,
    ):
        yield duck, spark


BEACON_ALLELE = {
    "meta": {"apiVersion": "2.0"},
    "query": {"requestParameters": {"referenceName": "10", "start": [94781858], "alternateBases": "A"}},
}
BEACON_RANGE = {
    "meta": {"apiVersion": "2.0"},
    "query": {
        "requestParameters": {"referenceName": "7", "start": [140700000], "end": [140800000]},
        "requestedGranularity": "record",
    },
}
_VOLATILE = re.compile(r'(nonce|value|content)="[A-Za-z0-9_\-+/=]{16,}"')


def _body(response: Any) -> Any:
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return _VOLATILE.sub(r'\1="…"', response.text)  # per-request CSP nonces and CSRF tokens


@pytest.mark.parametrize(
    ("method", "path", "user", "body"),
    [
        ("GET", "/frequencies?gene=CYP2C19&by=population", None, None),
        ("GET", "/frequencies?region=chr10:94700000-94900000", "researcher", None),
        ("GET", "/variants/chr10-94781859-G-A", None, None),
        ("GET", "/variants/chr10-94781859-G-A", "steward", None),
        ("POST", "/api/g_variants", None, BEACON_ALLELE),
        ("POST", "/api/g_variants", "steward", BEACON_RANGE),
        ("GET", "/pgx/summary", None, None),
        ("GET", "/pgx/summary", "steward", None),
        ("GET", "/gene/CYP2C19", None, None),
        ("GET", "/variant/chr7-140753336-A-T", None, None),
        ("GET", "/region/chr10:94000000-95000000?min_af=0.01", None, None),
    ],
)  # fmt: skip
def test_api_beacon_and_portal_answer_the_same_on_both_engines(
    clients: tuple[TestClient, TestClient], national: PortalNode, method: str, path: str, user: str | None, body: Any
) -> None:
    headers = {"Authorization": f"Bearer {national.tokens[user]}"} if user else {}
    answers = [c.request(method, path, headers=headers, json=body) for c in clients]
    assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
    duck, spark = (_body(a) for a in answers)
    assert spark == duck
    assert json.dumps(duck) != "{}"


def test_a_persons_pgx_report_is_the_same_on_both_engines(
    clients: tuple[TestClient, TestClient], national: PortalNode
) -> None:
    headers = {"Authorization": f"Bearer {national.tokens['steward']}"}
    people = clients[0].get("/individuals", headers=headers).json()
    person = people["individuals"][0]["id"] if "individuals" in people else people[0]["id"]
    reports = [c.get(f"/individuals/{person}/pgx", headers=headers) for c in clients]
    assert [r.status_code for r in reports] == [200, 200]
    assert reports[0].json() == reports[1].json()


# -- exhaustive -------------------------------------------------------------------------------------


@pytest.mark.scale
@pytest.mark.parametrize("by", [None, *BY_CHOICES])
def test_every_allele_of_both_stores_is_answered_alike(
    both: dict[str, tuple[NodeQueries, NodeQueries]], by: str | None
) -> None:
    for name, assembly in (("g1k", "GRCh37"), ("national", "GRCh38")):
        pair = both[name]
        chroms = sorted({c for a, c in pair[0]._current().stats_files if a == assembly})
        for chrom in chroms:
            whole = Region(chrom, 1, 300_000_000)
            for floor in (None, 5):
                same(pair, lambda q, r=whole, f=floor: q.frequencies(region=r, by=by, floor=f))
            if by is None:
                same(pair, lambda q, r=whole, c=chrom, a=assembly: q.variant_cells(assembly=a, chrom=c, region=r))
                alleles = _alleles(pair[0], chrom, assembly)
                for variant in alleles[:: max(1, len(alleles) // 100)]:
                    same(pair, lambda q, v=variant: q.variant(v, floor=5))


# -- batch jobs -------------------------------------------------------------------------------------


def test_statistics_recomputed_on_spark_equal_duckdb_and_what_is_stored(
    both: dict[str, tuple[NodeQueries, NodeQueries]], g1k: Settings, national: PortalNode
) -> None:
    from genomenode.pipeline.stats_check import check_statistics

    for settings, pair in ((g1k, both["g1k"]), (national.settings, both["national"])):
        # WHEN each engine recomputes every chromosome from its parts and compares with the stored cells
        duck, spark = (
            [
                (c.assembly, c.chrom, c.stored_rows, c.recomputed_rows, c.differing)
                for c in check_statistics(settings, engine=q.store_engine)
            ]
            for q in pair
        )
        # THEN both agree with each other and with what ingest stored (computed there by DuckDB)
        assert spark == duck
        assert duck and all(stored == recomputed > 0 and differing == 0 for _, _, stored, recomputed, differing in duck)


def _store_tables(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    import pyarrow.parquet as pq

    root = settings.store_root
    return {p.relative_to(root).as_posix(): pq.read_table(p).to_pylist() for p in sorted(root.rglob("*.parquet"))}


def test_ingest_on_spark_writes_the_same_parts_as_ingest_on_one_machine(
    both: dict[str, tuple[NodeQueries, NodeQueries]], tmp_path: Path, bcftools: str
) -> None:
    # GIVEN three centres' files in one submission, one of them tabix-indexed and, with a large-file
    # threshold of 0, cut into stretches of positions (a Spark task each, plus a column scan per file)
    indexed = tmp_path / G1K_BATCHES[2].name
    subprocess.run([bcftools, "view", "-Oz", "-o", str(indexed), str(G1K_BATCHES[2])], check=True)
    subprocess.run([str(Path(bcftools).with_name("tabix")), "-p", "vcf", str(indexed)], check=True)
    request = IngestRequest(files=[*G1K_BATCHES[:2], indexed], dataset="1000g", centre="north")
    nodes = [Settings(data_dir=tmp_path / engine, parallel_min_bytes=0, **extra) for engine, extra in
             (("duckdb", DUCKDB), ("spark", SPARK))]  # fmt: skip
    # WHEN ingested on one machine and on Spark
    results = [ingest(settings, request) for settings in nodes]
    # THEN the same samples and alleles, the same parts, row for row, and the same statistics
    assert (results[0].samples, results[0].alleles) == (results[1].samples, results[1].alleles)
    duck, spark = (_store_tables(s) for s in nodes)
    assert sorted(spark) == sorted(duck) and any("-00000003-1.parquet" in name for name in duck)
    assert spark == duck


def test_a_bad_file_in_a_spark_ingest_loads_nothing_and_says_which(tmp_path: Path) -> None:
    from genomenode.errors import VcfFormatError
    from tests.conftest import store_snapshot

    # GIVEN a node on Spark with one centre's file, and a submission of a good file and one whose
    # record has an extra sample column (htslib would drop it silently; the column scan does not)
    settings = Settings(data_dir=tmp_path / "node", **SPARK)
    ingest(settings, IngestRequest(files=[G1K_BATCHES[0]], dataset="1000g", centre="north"))
    lines = gzip.decompress(G1K_BATCHES[2].read_bytes()).decode().splitlines()
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    lines[first + 10] += "\t0|1"
    bad = tmp_path / "extra-column.vcf"
    bad.write_text("\n".join(lines) + "\n")
    before = store_snapshot(settings.data_dir)
    # WHEN both are sent THEN genomenode's own error names the file and line, and nothing changed
    with pytest.raises(VcfFormatError, match=r"extra-column\.vcf"):
        ingest(settings, IngestRequest(files=[G1K_BATCHES[1], bad], dataset="1000g", centre="south"))
    assert store_snapshot(settings.data_dir) == before


def test_pgx_calls_for_everyone_run_as_spark_tasks_give_the_same_rows(
    both: dict[str, tuple[NodeQueries, NodeQueries]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.compute as pc

    from genomenode.pgx import batch
    from genomenode.pgx.batch import Person, call_people
    from genomenode.pgx.knowledge import knowledge
    from genomenode.pgx.service import sites

    monkeypatch.setattr(batch, "BATCH", 40)  # three tasks
    duck, spark = both["national"]
    people = [Person(i, f"sample-{i}", f"person-{i}", "national-demo", "north", "EUR") for i in range(1, 121)]
    tables = [call_people(q, people, sites(knowledge())) for q in (duck, spark)]
    assert tables[1].to_pylist() == tables[0].to_pylist()
    assert tables[0].num_rows > 120 and tables[0].filter(pc.is_valid(tables[0]["phenotype"])).num_rows
