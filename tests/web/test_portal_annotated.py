"""Search by rsID and the variant page's annotations, over real annotated and 1000 Genomes files."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from genomenode.web.app import create_app
from tests.conftest import G1K_BATCHES, require_testdata

BEACON_DATA = Path(__file__).resolve().parents[1] / "data" / "beacon"


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("annotated") / "node")
    ingest(settings, IngestRequest(files=[BEACON_DATA / "braf_vep.vcf"], dataset="vep", centre="north"))
    with TestClient(create_app(settings)) as client:
        yield client


def test_an_rsid_naming_two_alt_alleles_lists_both(annotated: TestClient) -> None:
    page = annotated.get("/search", params={"q": "rs113488022"}, follow_redirects=False)
    assert page.status_code == 200
    assert "rs113488022 names 2 alleles" in page.text
    assert 'href="/variant/chr7-140753336-A-T"' in page.text and 'href="/variant/chr7-140753336-A-G"' in page.text


def test_variant_page_shows_the_vep_consequences_of_that_allele_only(annotated: TestClient) -> None:
    page = annotated.get("/variant/chr7-140753336-A-T").text
    assert "missense variant" in page and "p.Val600Glu" in page
    assert "ENST00000646891" in page and "canonical" in page
    other = annotated.get("/variant/chr7-140753335-C-T").text
    assert "synonymous variant" in other and "p.Val600Glu" not in other


def test_a_variant_from_an_unannotated_file_says_it_has_no_annotation(tmp_path: Path) -> None:
    require_testdata()
    settings = Settings(data_dir=tmp_path / "node")
    batch = G1K_BATCHES[0]
    ingest(settings, IngestRequest(files=[batch], dataset="g1k", centre="batch-1"))
    line = subprocess.run(
        ["bcftools", "view", "-H", "-i", 'ID!="." && N_ALT=1 && AC>0', batch],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    if not line:
        pytest.skip("bcftools not installed")
    chrom, pos, rsid, ref, alt = line[0].split("\t")[:5]
    with TestClient(create_app(settings)) as client:
        found = client.get("/search", params={"q": rsid}, follow_redirects=False)
        assert found.status_code == 303
        assert found.headers["location"] == f"/variant/chr{chrom}-{pos}-{ref}-{alt}"
        page = client.get(found.headers["location"]).text
        assert rsid in page and "carried no annotation" in page
