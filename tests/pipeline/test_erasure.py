"""Erasure: the person's genotypes are gone from every file on disk; what is left equals a node that
never had them (bcftools as the reference); a re-submission of them is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cyvcf2
import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from genomenode.access.crypt import load_or_create_archive_keys, plaintext_copy
from genomenode.api.app import create_app
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.catalog.models import ArchivedFile, PhenotypicFeature, Subject, SubjectDisease
from genomenode.errors import InputError
from genomenode.ingest.vcf_writer import write_without_samples
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.simulate.national import DATASET
from tests.secure_node import SecureNode, build_secure_node, reference_without, sample_of, store_stats


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    return build_secure_node(tmp_path_factory.mktemp("erasure") / "node", individuals=60, seed=9)


@pytest.fixture(scope="module")
def client(node: SecureNode) -> Iterator[TestClient]:
    with TestClient(create_app(node.settings)) as c:
        yield c


def _sample_code(node: SecureNode, sample: str) -> int:
    from genomenode.catalog.models import Sample

    engine = open_catalog(catalog_url(node.settings.data_dir, node.settings.catalog_url))
    with session_factory(engine)() as s:
        code = s.query(Sample.id).filter(Sample.sample_id == sample).scalar()
    engine.dispose()
    assert code is not None
    return int(code)


def _rows_of(node: SecureNode, code: int) -> int:
    """Calls rows of the sample in every Parquet file on disk, live or not."""
    parts = [str(p) for p in (node.settings.store_root / "calls").rglob("*.parquet")]
    return int(duckdb.sql(f"SELECT count(*) FROM read_parquet({parts!r}) WHERE sample = {code}").fetchall()[0][0])


def _archived_samples(node: SecureNode) -> set[str]:
    settings = node.settings
    keys = load_or_create_archive_keys(*settings.crypt4gh_key_paths)
    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    names: set[str] = set()
    with session_factory(engine)() as s:
        rows = list(s.query(ArchivedFile))
    engine.dispose()
    for row in rows:
        with plaintext_copy(settings.archive_root / row.path, keys, expected_sha256=row.plaintext_sha256) as plain:
            vcf = cyvcf2.VCF(str(plain))
            names |= set(vcf.samples)
            vcf.close()
    return names


def _health_records(node: SecureNode, pseudonym: str) -> tuple[int, int, float | None]:
    """The person's phenotypic features, diagnoses and age as the catalog holds them."""
    engine = open_catalog(catalog_url(node.settings.data_dir, node.settings.catalog_url))
    with session_factory(engine)() as s:
        subject = s.scalars(select(Subject).where(Subject.pseudonym == pseudonym)).one()
        features = len(s.scalars(select(PhenotypicFeature).where(PhenotypicFeature.subject_id == subject.id)).all())
        diseases = len(s.scalars(select(SubjectDisease).where(SubjectDisease.subject_id == subject.id)).all())
        age = subject.age_years
    engine.dispose()
    return features, diseases, age


def test_erasure__genotypes_leave_the_store_and_the_archive_and_counts_match_bcftools(
    client: TestClient, node: SecureNode, tmp_path: Path, bcftools: str
) -> None:
    # GIVEN a person with genotypes in the store and the archive, and phenotypes, a diagnosis and age on record
    person = next(p for p in node.spare[3:] if all(_health_records(node, p.pseudonym)))
    sample, _ = sample_of(node, person.pseudonym)
    code = _sample_code(node, sample)
    assert _rows_of(node, code) > 0 and sample in _archived_samples(node)
    # WHEN the steward erases them
    r = client.post(f"/individuals/{person.pseudonym}/erasure", headers=node.headers("steward"))
    assert r.status_code == 200, r.text
    # THEN no calls row of theirs is left in any file on disk, nor their column in the archive
    assert _rows_of(node, code) == 0
    assert sample not in _archived_samples(node)
    # AND every statistic equals a node that was never sent them
    assert store_stats(node.settings) == reference_without(node, sample, tmp_path, bcftools)
    # AND nothing of their health is left in the catalog
    assert _health_records(node, person.pseudonym) == (0, 0, None)
    # AND they are gone for everyone, the steward included
    assert client.get(f"/individuals/{person.pseudonym}", headers=node.headers("steward")).status_code == 404
    # AND the audit log says it happened, without naming their sample
    entries = client.get("/audit/export", params={"action": "erasure"}, headers=node.headers("steward")).json()
    assert [e["target"] for e in entries] == [person.pseudonym]
    log = node.settings.audit_log_path.read_text()
    assert sample not in log


def test_erasure__a_resubmission_of_the_erased_person_is_refused(
    client: TestClient, node: SecureNode, tmp_path: Path
) -> None:
    person = node.spare[1]
    sample, region = sample_of(node, person.pseudonym)
    r = client.post(f"/individuals/{person.pseudonym}/erasure", headers=node.headers("steward"))
    assert r.status_code == 200, r.text
    # WHEN a centre sends them again, in a new file of their own
    submissions = node.settings.data_dir / "demo-submissions"
    source = submissions / f"{region}.vcf.gz"
    others = [name for name in cyvcf2.VCF(str(source)).samples if name != sample]
    again = tmp_path / "again.vcf.gz"
    write_without_samples(source, again, others)
    sheet_lines = (submissions / f"samples-{region}.tsv").read_text().splitlines()
    sheet = tmp_path / "again.tsv"
    sheet.write_text("\n".join([sheet_lines[0], *[ln for ln in sheet_lines if ln.startswith(sample + "\t")]]) + "\n")
    # THEN the submission is refused, naming why
    with pytest.raises(InputError, match="erased from the node at their request"):
        ingest(node.settings, IngestRequest(files=[again], dataset=DATASET, centre=region, sample_sheet=sheet))


def test_erasure__only_a_steward_may_erase(client: TestClient, node: SecureNode) -> None:
    person = node.spare[2]
    for user in ("admin", "clinician-stockholm", "researcher", "registered", "submitter-stockholm"):
        assert client.post(f"/individuals/{person.pseudonym}/erasure", headers=node.headers(user)).status_code == 403
    assert client.post(f"/individuals/{person.pseudonym}/erasure").status_code == 401
    assert json.loads(client.get(f"/individuals/{person.pseudonym}", headers=node.headers("steward")).text)["id"]
