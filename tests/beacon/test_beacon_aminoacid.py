"""Beacon aminoacidChange (with geneId) on a hand-made VEP-annotated VCF of BRAF V600 and KRAS G12
alleles (tests/data/beacon/braf_vep.vcf) and a second centre's unannotated calls: the protein change
is read from the annotation the centre submitted, in any spelling, and the alleles found answer as
every other g_variants query does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from genomenode.access.gate import AccessControl
from genomenode.api.app import create_app
from genomenode.catalog import repository as repo
from genomenode.catalog import sharing
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from genomenode.store.parquet import annotation_headers
from tests.beacon.schemas import RESPONSE_SCHEMAS, assert_valid, assert_valid_response

DATA = Path(__file__).resolve().parents[1] / "data" / "beacon"
ANNOTATED, PLAIN = "north", "south"  # datasets: VEP-annotated calls, and calls without annotation
V600E, V600A, V600K, V600_SYN = "chr7-140753336-A-T", "chr7-140753336-A-G", "chr7-140753336-AC-TT", "chr7-140753335-C-T"
G12D = "chr12-25245350-C-T"


@dataclass
class Node:
    settings: Settings
    client: TestClient
    token: str  # the steward's: record granularity on every dataset

    def get(self, steward: bool = True, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if steward else {}
        return self.client.get("/api/g_variants", params=params, headers=headers)

    def post(self, parameters: dict[str, Any], granularity: str = "record") -> Any:
        body = {"query": {"requestParameters": {"g_variant": parameters}, "requestedGranularity": granularity}}
        return self.client.post("/api/g_variants", json=body, headers={"Authorization": f"Bearer {self.token}"})


def build_node(data_dir: Path) -> tuple[Settings, str]:
    settings = Settings(data_dir=data_dir)
    ingest(settings, IngestRequest(files=[DATA / "braf_vep.vcf"], dataset=ANNOTATED, centre="centre-north"))
    ingest(settings, IngestRequest(files=[DATA / "unannotated.vcf"], dataset=PLAIN, centre="centre-south"))
    gate = AccessControl(settings)
    try:
        with gate.Session() as s, s.begin():
            sharing.upsert_user(s, issuer=settings.public_url, subject="steward", roles=["steward"])
        token = gate.issue_token(issuer=settings.public_url, subject="steward")
    finally:
        gate.close()
    return settings, token


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    settings, token = build_node(tmp_path_factory.mktemp("aminoacid") / "node")
    with TestClient(create_app(settings)) as client:
        yield Node(settings, client, token)


def _valid(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    granularity = body["meta"]["returnedGranularity"]
    if granularity == "count":
        assert_valid(body, RESPONSE_SCHEMAS["count"])
    else:
        assert_valid_response(body, granularity, "g_variants" if granularity == "record" else None)
    return body


def _found(body: dict[str, Any]) -> dict[str, set[str]]:
    """Dataset → allele ids its records name."""
    return {s["id"]: {r["variantInternalId"] for r in s["results"]} for s in body["response"]["resultSets"]}


def _record(body: dict[str, Any], dataset: str, allele: str) -> dict[str, Any]:
    result_set = next(s for s in body["response"]["resultSets"] if s["id"] == dataset)
    return next(r for r in result_set["results"] if r["variantInternalId"] == allele)


# -- hits -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", ["V600E", "p.V600E", "p.Val600Glu", "p.(Val600Glu)", "NP_004324.2:p.Val600Glu"])
def test_aminoacid__braf_v600e_is_found_in_every_spelling(node: Node, change: str) -> None:
    body = _valid(node.get(geneId="BRAF", aminoacidChange=change, requestedGranularity="record"))
    assert body["responseSummary"]["exists"] is True
    assert _found(body) == {ANNOTATED: {V600E}, PLAIN: {V600E}}
    assert "info" not in body


def test_aminoacid__post_nested_form_gives_the_same_answer_as_get(node: Node) -> None:
    post = _valid(node.post({"geneId": "BRAF", "aminoacidChange": "p.Val600Glu", "assemblyId": "GRCh38"}))
    get = _valid(node.get(geneId="BRAF", aminoacidChange="V600E", assemblyId="GRCh38", requestedGranularity="record"))
    assert _found(post) == _found(get) == {ANNOTATED: {V600E}, PLAIN: {V600E}}
    assert post["meta"]["receivedRequestSummary"]["requestParameters"]["g_variant"]["aminoacidChange"] == "p.Val600Glu"


def test_aminoacid__an_allele_annotated_by_one_centre_is_found_where_another_holds_it_unannotated(
    node: Node,
) -> None:
    # GIVEN south's file has no CSQ; WHEN asked for V600E; THEN south's carrier counts, with south's frequencies
    body = _valid(node.get(geneId="BRAF", aminoacidChange="V600E", requestedGranularity="record"))
    north = _record(body, ANNOTATED, V600E)["frequencyInPopulations"][0]["frequencies"][0]
    south = _record(body, PLAIN, V600E)["frequencyInPopulations"][0]["frequencies"][0]
    assert (north["alleleCount"], north["alleleNumber"]) == (3, 8)  # N1 het, N2 hom of four people
    assert (south["alleleCount"], south["alleleNumber"]) == (1, 4)


def test_aminoacid__records_carry_the_gene_change_and_effect_the_annotation_states(node: Node) -> None:
    body = _valid(node.get(geneId="braf", aminoacidChange="p.Val600Glu", requestedGranularity="record"))
    attributes = _record(body, ANNOTATED, V600E)["molecularAttributes"]
    assert attributes == {
        "geneIds": ["BRAF"],
        "aminoacidChanges": ["V600E"],
        "molecularEffects": [{"id": "SO:0001583", "label": "missense_variant"}],
    }


@pytest.mark.parametrize(
    ("change", "allele"),
    [
        ("V640E", V600E),  # the same allele, numbered on the 807-residue isoform
        ("V600A", V600A),  # the other ALT of the same record
        ("p.Val600Ala", V600A),
        ("V600K", V600K),  # an MNV
        ("p.Val600=", V600_SYN),  # VEP writes it %3D-escaped
        ("V600=", V600_SYN),
    ],
)
def test_aminoacid__each_alt_and_transcript_is_matched_on_its_own_change(node: Node, change: str, allele: str) -> None:
    body = _valid(node.get(geneId="BRAF", aminoacidChange=change, requestedGranularity="record"))
    assert _found(body)[ANNOTATED] == {allele}


def test_aminoacid__the_gene_must_match_too(node: Node) -> None:
    kras = _valid(node.get(geneId="KRAS", aminoacidChange="G12D", requestedGranularity="record"))
    assert _found(kras) == {ANNOTATED: {G12D}}
    for gene, change in (("BRAF", "G12D"), ("KRAS", "V600E")):
        body = _valid(node.get(geneId=gene, aminoacidChange=change, requestedGranularity="count"))
        assert body["responseSummary"] == {"exists": False, "numTotalResults": 0, "countPrecision": "exact"}


# -- misses -------------------------------------------------------------------------------------
def test_aminoacid__a_change_nobody_carries_is_a_plain_miss(node: Node) -> None:
    for change in ("V600D", "p.Val600Asp", "K601E"):
        body = _valid(node.get(geneId="BRAF", aminoacidChange=change, requestedGranularity="record"))
        assert body["responseSummary"]["exists"] is False
        assert "info" not in body  # the node holds protein annotation here: nothing to warn about


def test_aminoacid__a_gene_without_protein_annotation_is_an_empty_answer_that_says_why(node: Node) -> None:
    # TP53 R175H is carried (south, chr17), but no file on chr17 carries a CSQ/BCSQ/ANN header
    for granularity in ("boolean", "count", "record"):
        body = _valid(node.get(geneId="TP53", aminoacidChange="R175H", requestedGranularity=granularity))
        assert body["responseSummary"]["exists"] is False
        [warning] = body["info"]["warnings"]
        assert "no file on chr17 (GRCh38) carries protein annotation" in warning and "TP53" in warning
    # the gene itself is answered as usual
    assert _valid(node.get(geneId="TP53", requestedGranularity="count"))["responseSummary"]["exists"] is True


def test_aminoacid__an_anonymous_caller_gets_the_boolean_answer_like_any_query(node: Node) -> None:
    body = _valid(node.get(steward=False, geneId="BRAF", aminoacidChange="V600E", requestedGranularity="record"))
    assert body["meta"]["returnedGranularity"] == "boolean"
    assert body["responseSummary"] == {"exists": True}


# -- bad requests -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"geneId": "BRAF", "aminoacidChange": "V600"}, "'V600'"),
        ({"geneId": "BRAF", "aminoacidChange": "VAL600GLU"}, "'VAL600GLU'"),
        ({"geneId": "BRAF", "aminoacidChange": "c.1799T>A"}, "'c.1799T>A'"),
        ({"aminoacidChange": "V600E"}, "needs geneId"),
        ({"geneId": "BRAF", "aminoacidChange": "V600E", "referenceName": "7", "start": 140753335}, "not with"),
        ({"geneId": "NOT_A_GENE_XYZ", "aminoacidChange": "V600E"}, "NOT_A_GENE_XYZ"),
    ],
)
def test_aminoacid__a_malformed_request_is_a_400_naming_the_value(
    node: Node, params: dict[str, Any], named: str
) -> None:
    for response in (node.get(**params), node.post(params)):
        assert response.status_code == 400, response.text
        body = response.json()
        assert_valid(body, RESPONSE_SCHEMAS["error"])
        assert named in body["error"]["errorMessage"]


# -- the annotation header travels with the alleles -----------------------------------------------
def _variants_parts(settings: Settings) -> dict[str, dict[str, str]]:
    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    with session_factory(engine)() as s:
        parts = repo.live_store_files(s, table_name="variants")
    engine.dispose()
    return {p.chrom: dict(annotation_headers(settings.store_root / p.path)) for p in parts if p.dataset_id == 1}


def test_ingest__keeps_the_csq_header_description_with_the_files_alleles(node: Node) -> None:
    headers = _variants_parts(node.settings)
    assert set(headers) == {"chr7", "chr12"}
    assert headers["chr7"]["CSQ"].startswith("Consequence annotations from Ensembl VEP. Format: Allele|Consequence|")


def test_erasure__the_rewritten_parts_keep_the_annotation_header(tmp_path: Path) -> None:
    # GIVEN a node; WHEN N2 (a V600E carrier of north) is erased, north's parts are rewritten
    settings, token = build_node(tmp_path / "node")
    gate = AccessControl(settings)
    try:
        with gate.Session() as s:
            rows = sharing.subject_rows(s)
        [pseudonym] = [r.pseudonym for r in rows if any(sample[2] == "N2" for sample in r.samples)]
    finally:
        gate.close()
    with TestClient(create_app(settings)) as client:
        node = Node(settings, client, token)
        erased = client.post(f"/individuals/{pseudonym}/erasure", headers={"Authorization": f"Bearer {token}"})
        assert erased.status_code == 200, erased.text
        # THEN V600E is still found through the annotation, now carried once (N1) in north
        body = _valid(node.get(geneId="BRAF", aminoacidChange="V600E", requestedGranularity="record"))
    assert _found(body) == {ANNOTATED: {V600E}, PLAIN: {V600E}}
    north = _record(body, ANNOTATED, V600E)["frequencyInPopulations"][0]["frequencies"][0]
    assert (north["alleleCount"], north["alleleNumber"]) == (1, 6)
    assert "CSQ" in _variants_parts(settings)["chr7"]
