"""PGx on the national database: who may read a report, the audit entry before any genotype,
the CLI contract, and the phenotype summary with small counts hidden below a steward."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from genomenode.api.app import create_app
from genomenode.cli.main import app
from tests.pgx.vcfs import positions_vcf
from tests.secure_node import SecureNode, build_secure_node

pytestmark = pytest.mark.skipif(not positions_vcf().exists(), reason="PharmCAT reference data not beside the checkout")
CONTRACT_GENE_KEYS = {"diplotypes", "phenotype", "activity_score", "missing_positions", "warnings"}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    return build_secure_node(tmp_path_factory.mktemp("pgx") / "node")


@pytest.fixture(scope="module")
def client(node: SecureNode) -> TestClient:
    with TestClient(create_app(node.settings)) as c:
        yield c  # type: ignore[misc]


def test_pgx_report__a_clinician_of_the_region_gets_the_contract_and_every_gene_called(
    client: TestClient, node: SecureNode
) -> None:
    response = client.get(f"/individuals/{node.stockholm.pseudonym}/pgx", headers=node.headers("clinician-stockholm"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert set(report) >= {"sample", "genes", "recommendations"}
    for gene, entry in report["genes"].items():
        assert set(entry) >= CONTRACT_GENE_KEYS, gene
    # the demo centres force-call every PharmCAT position, so nothing is missing
    assert report["complete"], report["warnings"]
    assert report["genes"]["CYP2C19"]["diplotypes"] and report["genes"]["CYP2C19"]["phenotype"]
    html = client.get(
        f"/individuals/{node.stockholm.pseudonym}/pgx", params={"format": "html"}, headers=node.headers("steward")
    )
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<script" not in html.text and "Content-Security-Policy" in html.text


def test_pgx_report__another_regions_person_reads_exactly_like_no_person(client: TestClient, node: SecureNode) -> None:
    headers = node.headers("clinician-stockholm")
    other = client.get(f"/individuals/{node.skane.pseudonym}/pgx", headers=headers)
    missing = client.get(f"/individuals/{'0' * 64}/pgx", headers=headers)
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"]["message"].replace(node.skane.pseudonym, "X") == missing.json()["error"][
        "message"
    ].replace("0" * 64, "X")
    assert (
        client.get(f"/individuals/{node.stockholm.pseudonym}/pgx", headers=node.headers("researcher")).status_code
        == 404
    )


def test_pgx_cli__a_stored_sample_prints_the_contract_and_is_audited(node: SecureNode) -> None:
    # GIVEN the operator at the console (no token), naming the person by the node's pseudonym
    result = CliRunner().invoke(
        app, ["--data-dir", str(node.settings.data_dir), "pgx", node.stockholm.pseudonym, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["genes"]["CYP2C19"]) >= CONTRACT_GENE_KEYS
    # THEN the read is in the audit log, against the person's pseudonym
    export = CliRunner().invoke(
        app,
        ["--data-dir", str(node.settings.data_dir), "audit", "export"],
        env={"GENOMENODE_TOKEN": node.tokens["steward"]},
    )
    assert export.exit_code == 0, export.output
    assert any('"read.pgx"' in line and node.stockholm.pseudonym in line for line in export.stdout.splitlines()), (
        "no read.pgx entry"
    )


def test_pgx_cli__an_unknown_sample_is_a_clear_error(node: SecureNode) -> None:
    result = CliRunner().invoke(app, ["--data-dir", str(node.settings.data_dir), "pgx", "NO-SUCH-SAMPLE"])
    assert result.exit_code == 1 and "no sample 'NO-SUCH-SAMPLE'" in result.output


def test_pgx_cli__vcf_one_shot_prints_one_json_object(tmp_path: Path) -> None:
    from tests.pgx.vcfs import pgx_vcf

    vcf = pgx_vcf(tmp_path / "p.vcf", {"rs4244285": "1/1", "rs12769205": "1/1", "rs3758581": "1/1"})
    result = CliRunner().invoke(app, ["pgx", "--vcf", str(vcf), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["genes"]["CYP2C19"]["diplotypes"] == ["*2/*2"]
    assert report["genes"]["CYP2C19"]["phenotype"] == "Poor Metabolizer"
    both = CliRunner().invoke(app, ["pgx", "S1", "--vcf", str(vcf)])
    assert both.exit_code == 2


def test_pgx_summary__public_counts_hide_small_cells_and_a_steward_sees_them_all(
    client: TestClient, node: SecureNode
) -> None:
    public = client.get("/pgx/summary").json()
    exact = client.get("/pgx/summary", headers=node.headers("steward")).json()
    assert exact["small_count_floor"] is None and exact["suppressed_cells"] == 0
    floor = public["small_count_floor"]
    assert floor and floor > 1
    for gene, table in exact["genes"].items():
        overall = table["groups"][0]
        assert overall["stratum"] == "all" and overall["people"] == exact["people"]
        assert sum(overall["counts"].values()) == exact["people"], gene  # each person once per gene
        for group in public["genes"][gene]["groups"]:
            for count in group["counts"].values():
                assert count is None or count == 0 or count >= floor
    assert public["suppressed_cells"] > 0  # 80 people over regions × populations: some cells are small
    assert client.get("/pgx/summary", params={"dataset": "nope"}).status_code == 404


def test_pgx_calls__every_person_every_gene_by_pseudonym_as_their_own_report_says(
    node: SecureNode, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    # GIVEN the operator at the console WHEN every person's PGx genes are called to a file
    out = tmp_path / "pgx-calls.parquet"
    result = CliRunner().invoke(app, ["--data-dir", str(node.settings.data_dir), "pgx-calls", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    rows = table.to_pylist()
    people = {r["individual"] for r in rows}
    genes = {r["gene"] for r in rows}
    # THEN one row per person and gene, people by pseudonym only
    assert len(rows) == len(people) * len(genes) and len(people) >= 40 and "CYP2C19" in genes
    assert node.stockholm.pseudonym in people and all(len(p) == 64 for p in people)
    # AND a person's row says what their single report says
    single = CliRunner().invoke(
        app, ["--data-dir", str(node.settings.data_dir), "pgx", node.stockholm.pseudonym, "--format", "json"]
    )
    report = json.loads(single.stdout)
    mine = {r["gene"]: r for r in rows if r["individual"] == node.stockholm.pseudonym}
    for gene, entry in report["genes"].items():
        assert mine[gene]["phenotype"] == entry["phenotype"], gene
        assert mine[gene]["diplotype"] == (" or ".join(entry["diplotypes"]) or None), gene


def test_pgx_calls__a_researcher_is_refused_and_an_existing_file_is_kept(node: SecureNode, tmp_path: Path) -> None:
    out = tmp_path / "calls.parquet"
    token = tmp_path / "token"
    token.write_text(node.tokens["researcher"])
    refused = CliRunner().invoke(
        app,
        ["--data-dir", str(node.settings.data_dir), "pgx-calls", "--out", str(out), "--token-file", str(token)],
    )
    assert refused.exit_code == 1 and "steward" in refused.output and not out.exists()
    out.write_text("keep me")
    kept = CliRunner().invoke(app, ["--data-dir", str(node.settings.data_dir), "pgx-calls", "--out", str(out)])
    assert kept.exit_code == 1 and "--force" in kept.output and out.read_text() == "keep me"
