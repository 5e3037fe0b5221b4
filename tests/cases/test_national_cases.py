"""Cases on the national database: a family ingested with unrelated samples, created, analysed
from the store with nation-wide counts (the family's own alleles left out), under the node's
access policy and audit; on SQLite and PostgreSQL catalogs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.cases.service import analyse_case, case_report, create_case, list_cases
from genomenode.domain.assembly import Assembly, contig_lengths
from genomenode.errors import AuthenticationError, CaseError, InputError, NotFoundError
from genomenode.ingest.vcf_writer import write_vcf
from genomenode.interpret.raredisease.inheritance import Mode
from genomenode.interpret.raredisease.scores import RankingOptions
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.query.service import NodeQueries
from genomenode.settings import Settings
from genomenode.simulate.family import Planted, coding_base, write_family

DATASET = "rare-disease"
DRAVET_TERMS = ("HP:0001250", "HP:0002069", "HP:0001263")  # seizures, generalized tonic-clonic, delay
UNRELATED = tuple(f"u{i:03d}" for i in range(100))  # 200 alleles: one copy is AF 0.005
STOCKHOLM = policy.Caller(
    issuer="test", subject="dr-stockholm", roles=frozenset({policy.Role.CLINICIAN}), region="stockholm"
)
SKANE = policy.Caller(issuer="test", subject="dr-skane", roles=frozenset({policy.Role.CLINICIAN}), region="skane")
STEWARD = policy.Caller(issuer="test", subject="steward", roles=frozenset({policy.Role.STEWARD}))
# the planted de novo is also seen once outside the family: its frequency must be that one alone
RELAXED = RankingOptions(max_af=dict.fromkeys(Mode, 0.5))


@dataclass
class Node:
    settings: Settings
    gate: AccessControl
    queries: NodeQueries
    ped: Path
    scn1a: tuple[str, int]


def _unrelated_vcf(path: Path) -> Path:
    """A hundred people outside the family: the first carries the family's SCN1A variant; everyone
    is called at CFTR (hom-ref there, written) and on chr5, so national AN covers them."""
    lengths = contig_lengths(Assembly.GRCh38)
    header = ["##fileformat=VCFv4.2", '##FILTER=<ID=PASS,Description="All filters passed">']
    header += [f"##contig=<ID={c},length={n}>" for c, n in lengths.items()]
    header += [
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(UNRELATED),
    ]
    records = []
    n = len(UNRELATED)
    for gene, carriers in (("SCN1A", ("0/1",) + ("0/0",) * (n - 1)), ("CFTR", ("0/0",) * n)):
        chrom, pos = coding_base(gene)
        calls = "\t".join(f"{gt}:99:30" for gt in carriers)
        records.append((chrom, pos, f"{chrom}\t{pos}\t.\tC\tT\t50\tPASS\t.\tGT:GQ:DP\t{calls}"))
    records.append(
        ("chr5", 20_000_000, "chr5\t20000000\t.\tA\tG\t50\tPASS\t.\tGT:GQ:DP\t" + "\t".join(["0/1:99:30"] * n))
    )
    order = {c: i for i, c in enumerate(lengths)}
    records.sort(key=lambda r: (order[r[0]], r[1]))
    write_vcf(path, header, [r[2] for r in records])
    return path


@pytest.fixture
def node(tmp_path: Path, catalog_url: str) -> Iterator[Node]:
    planted = [
        Planted("SCN1A", ("0/1", "0/0", "0/0"), csq="stop_gained|HIGH|ENSP0:p.Arg1407Ter|HC|1.00"),  # de novo
        Planted("CFTR", ("1/1", "0/1", "0/1")),  # the family's own: 4 copies, none outside
        Planted("FBN1", ("0/1", "0/1", "0/0")),  # inherited from the unaffected father
    ]
    family_dir = tmp_path / "family"
    family_dir.mkdir()
    vcf, ped = write_family(family_dir, planted, background=30)
    others = _unrelated_vcf(tmp_path / "unrelated.vcf.gz")
    settings = Settings(data_dir=tmp_path / "node", catalog_url=catalog_url)
    ingest(settings, IngestRequest(files=[vcf, others], dataset=DATASET, centre="stockholm"))
    gate = AccessControl(settings)
    queries = NodeQueries(settings, engine=gate.engine)
    try:
        yield Node(settings, gate, queries, ped, coding_base("SCN1A"))
    finally:
        queries.close()
        gate.close()


def _audit(node: Node, action: str) -> list[dict[str, object]]:
    return list(node.gate.audit_log.export(actions=[action]))


def test_case__planted_de_novo_ranks_first_from_the_national_database(node: Node) -> None:
    # GIVEN a trio case created by a clinician of the family's region
    case = create_case(node.gate, STOCKHOLM, dataset=DATASET, family=node.ped, hpo=DRAVET_TERMS, name="trio-1")
    assert (case.proband, case.region, [m["id"] for m in case.members]) == (
        "child",
        "stockholm",
        ["child", "father", "mother"],
    )
    # WHEN they analyse it
    result = analyse_case(node.gate, node.queries, STOCKHOLM, "trio-1", ranking=RELAXED)
    # THEN the de novo stop-gain in the phenotype's gene is first
    first = result.candidates[0]
    assert (first.gene, first.inheritance, first.consequence) == ("SCN1A", "de novo", "stop_gained")
    assert first.genotypes == {"child": "0/1", "father": "0/0", "mother": "0/0"}
    # AND its frequency is the one unrelated carrier's: 1 of the 200 alleles outside the family
    assert first.max_af == pytest.approx(1 / 200)
    # AND the family's own homozygote is not counted against it: 0 copies outside the family
    cftr = next(c for c in result.candidates if c.gene == "CFTR")
    assert cftr.max_af == 0.0
    assert "FBN1" not in {c.gene for c in result.candidates}


def test_case__audit_has_one_genotype_read_per_member_before_the_result_is_stored(node: Node) -> None:
    create_case(node.gate, STOCKHOLM, dataset=DATASET, family=node.ped, hpo=DRAVET_TERMS, name="trio-2")
    analyse_case(node.gate, node.queries, STOCKHOLM, "trio-2", ranking=RELAXED)
    reads = _audit(node, "read.genotypes")
    assert len(reads) == 3
    assert {e["actor"] for e in reads} == {STOCKHOLM.actor}
    assert len({e["target"] for e in reads}) == 3  # one per person, by pseudonym
    assert all(e["details"]["via"] == "case trio-2" for e in reads)  # type: ignore[index]
    stored = json.loads(case_report(node.gate, STOCKHOLM, "trio-2", "json"))
    assert stored["case"]["analysed_by"] == STOCKHOLM.actor
    assert stored["candidates"][0]["gene"] == "SCN1A"


def test_case__another_regions_clinician_sees_no_case_and_nothing_is_read(node: Node) -> None:
    create_case(node.gate, STOCKHOLM, dataset=DATASET, family=node.ped, name="trio-3")
    with pytest.raises(NotFoundError, match="no case 'trio-3'") as denied:
        analyse_case(node.gate, node.queries, SKANE, "trio-3")
    with pytest.raises(NotFoundError) as missing:
        analyse_case(node.gate, node.queries, SKANE, "no-such-case")
    assert str(denied.value).replace("trio-3", "X") == str(missing.value).replace("no-such-case", "X")
    assert _audit(node, "read.genotypes") == []
    assert list_cases(node.gate, SKANE) == []
    assert [c["name"] for c in list_cases(node.gate, STOCKHOLM)] == ["trio-3"]
    with pytest.raises(AuthenticationError):
        analyse_case(node.gate, node.queries, policy.ANONYMOUS, "trio-3")


def test_case__a_steward_may_analyse_and_report_as_tsv_and_html(node: Node) -> None:
    create_case(node.gate, STEWARD, dataset=DATASET, family=node.ped, hpo=DRAVET_TERMS, name="trio-4")
    with pytest.raises(NotFoundError, match="no analysis yet"):
        case_report(node.gate, STEWARD, "trio-4", "tsv")
    analyse_case(node.gate, node.queries, STEWARD, "trio-4", ranking=RELAXED)
    tsv = case_report(node.gate, STEWARD, "trio-4", "tsv").splitlines()
    assert tsv[0].startswith("rank\tgene") and tsv[1].split("\t")[1] == "SCN1A"
    page = case_report(node.gate, STEWARD, "trio-4", "html")
    assert page.startswith("<!DOCTYPE html>") and "SCN1A" in page


def test_case__an_unknown_sample_in_the_ped_is_named(node: Node, tmp_path: Path) -> None:
    ped = tmp_path / "bad.ped"
    ped.write_text("F1\tchild\tfather\tmother2\t1\t2\nF1\tfather\t0\t0\t1\t1\nF1\tmother2\t0\t0\t2\t1\n")
    with pytest.raises(CaseError, match=r"mother2 is not a sample of dataset 'rare-disease'"):
        create_case(node.gate, STOCKHOLM, dataset=DATASET, family=ped, name="bad")


def test_case__another_regions_clinician_cannot_create_a_case_of_these_samples(node: Node) -> None:
    with pytest.raises(CaseError, match="that you may see"):
        create_case(node.gate, SKANE, dataset=DATASET, family=node.ped, name="theirs")


def test_case__unknown_hpo_terms_and_duplicate_names_are_refused(node: Node) -> None:
    with pytest.raises(CaseError, match="HP:9999999"):
        create_case(node.gate, STOCKHOLM, dataset=DATASET, family=node.ped, hpo=["HP:9999999"], name="x")
    create_case(node.gate, STOCKHOLM, dataset=DATASET, family=node.ped, name="dup")
    with pytest.raises(InputError, match="exists already"):
        create_case(node.gate, STOCKHOLM, dataset=DATASET, family=node.ped, name="dup")


def test_cli__create_analyse_report_list_as_a_token_holder(node: Node, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from genomenode.catalog import sharing
    from genomenode.cli.main import app

    with node.gate.Session() as s, s.begin():
        sharing.upsert_user(s, issuer=node.settings.public_url, subject="dr", roles=["clinician"], region="stockholm")
    token = tmp_path / "token"
    token.write_text(node.gate.issue_token(issuer=node.settings.public_url, subject="dr"))
    env = {"GENOMENODE_CATALOG_URL": node.settings.catalog_url or ""}
    base = ["--data-dir", str(node.settings.data_dir), "case"]
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, [*base, *args, "--token-file", str(token)], env=env)
        assert result.exit_code == 0, result.output
        return result.stdout

    hpo = ",".join(DRAVET_TERMS)
    assert run("create", "--dataset", DATASET, "--ped", str(node.ped), "--hpo", hpo, "--name", "cli").strip() == "cli"
    run("analyse", "--case", "cli", "--max-af-dominant", "0.5", "--format", "json")
    assert run("report", "cli", "--format", "tsv").splitlines()[1].split("\t")[1] == "SCN1A"
    assert [c["name"] for c in json.loads(run("list"))] == ["cli"]
    neither = runner.invoke(app, [*base, "analyse"], env=env)
    assert neither.exit_code == 2 and "exactly one of --vcf" in neither.output


def test_case__erasing_a_member_unlinks_them_and_drops_the_stored_analysis(node: Node) -> None:
    # GIVEN an analysed trio case
    from genomenode.pipeline.erasure import erase

    create_case(node.gate, STEWARD, dataset=DATASET, family=node.ped, hpo=DRAVET_TERMS, name="trio-e")
    analyse_case(node.gate, node.queries, STEWARD, "trio-e", ranking=RELAXED)
    father = next(p for p in node.gate.individuals(STEWARD) if any(s[2] == "father" for s in p.row.samples))
    # WHEN the father is erased
    erase(node.gate, STEWARD, father.row.pseudonym)
    # THEN the analysis that showed his genotypes is gone, and a new one is made without him
    with pytest.raises(NotFoundError, match="no analysis yet"):
        case_report(node.gate, STEWARD, "trio-e", "json")
    result = analyse_case(node.gate, node.queries, STEWARD, "trio-e", ranking=RELAXED)
    assert result.members == ("child", "mother") and result.family == "duo"
    scn1a = next(c for c in result.candidates if c.gene == "SCN1A")
    assert set(scn1a.genotypes) == {"child", "mother"}
