"""National allele counts equal `bcftools norm -m- | +fill-tags` on the same people, however they arrive."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from genomenode.domain.variant import Region
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from tests.conftest import G1K_BATCHES, G1K_JOINT, require_testdata
from tests.pipeline.helpers import Counts, bcftools_counts, national_counts


@pytest.fixture(scope="module")
def joint_reference(bcftools: str) -> Counts:
    require_testdata()
    return bcftools_counts(bcftools, G1K_JOINT)


@pytest.fixture(scope="module")
def joint_node(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    require_testdata()
    settings = Settings(data_dir=tmp_path_factory.mktemp("joint") / "node")
    ingest(settings, IngestRequest(files=[G1K_JOINT], dataset="1000g", centre="igsr"))
    return settings


@pytest.fixture(scope="module")
def batches_node(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    require_testdata()
    settings = Settings(data_dir=tmp_path_factory.mktemp("batches") / "node")
    for i, path in enumerate(G1K_BATCHES):
        ingest(settings, IngestRequest(files=[path], dataset="1000g", centre=f"centre-{i + 1}"))
    return settings


def test_counts__joint_1000g_file_equals_bcftools_fill_tags(joint_node: Settings, joint_reference: Counts) -> None:
    ours = national_counts(joint_node)
    assert ours.keys() == joint_reference.keys()
    mismatched = {k: (ours[k], joint_reference[k]) for k in ours if ours[k] != joint_reference[k]}
    assert not mismatched, list(mismatched.items())[:5]
    assert len(ours) == 9792


def test_counts__five_centre_files_equal_the_joint_file(batches_node: Settings, joint_reference: Counts) -> None:
    # GIVEN the same 2,504 people sent as five variant-only centre files
    ours = national_counts(batches_node)
    # THEN every allele carried by anyone has exactly the joint file's AC, AN, hom and hemi:
    # a person with no record at a site in their centre's file is hom-ref there (counts 2 in AN).
    carried = {k: v for k, v in joint_reference.items() if v[0] > 0}
    assert ours.keys() == carried.keys()
    mismatched = {k: (ours[k], carried[k]) for k in carried if ours[k] != carried[k]}
    assert not mismatched, list(mismatched.items())[:5]


def test_counts__alleles_nobody_carries_cannot_come_from_variant_only_files(joint_reference: Counts) -> None:
    # The joint file lists 37 alleles with AC=0 (split multi-allelic leftovers); a variant-only
    # centre file has no record of them, so the national store cannot list them either.
    assert sum(1 for v in joint_reference.values() if v[0] == 0) == 37


def test_counts__summing_batch_an_only_where_sites_appear_would_be_wrong(batches_node: Settings) -> None:
    # The test data's README: naive AN summing is wrong at 8,172 sites. Ours is 5,008 everywhere.
    ours = national_counts(batches_node)
    assert {an for (_, an, _, _) in ours.values()} == {5008}


def test_ingest__same_file_again_is_a_no_op(joint_node: Settings) -> None:
    before = national_counts(joint_node)
    result = ingest(joint_node, IngestRequest(files=[G1K_JOINT], dataset="1000g", centre="igsr"))
    assert not result.changed
    assert [o.status for o in result.files] == ["unchanged"]
    assert national_counts(joint_node) == before


def test_ingest__per_centre_strata_sum_to_the_nation(batches_node: Settings) -> None:
    from genomenode.domain.variant import parse_region
    from genomenode.query.service import NodeQueries

    with NodeQueries(batches_node) as q:
        overall = q.frequencies(region=parse_region("22:16050000-16100000"))
        by_centre = q.frequencies(region=parse_region("22:16050000-16100000"), by="centre")
    sums: dict[tuple[int, str, str], list[int]] = {}
    for r in by_centre.rows:
        acc = sums.setdefault((r.pos, r.ref, r.alt), [0, 0])
        acc[0] += r.ac
        acc[1] += r.an
    assert overall.rows
    for r in overall.rows:
        assert sums[(r.pos, r.ref, r.alt)] == [r.ac, r.an]
    assert {r.stratum_value for r in by_centre.rows} == {f"centre-{i}" for i in range(1, 6)}


def test_ingest__same_answers_with_a_sqlite_or_postgresql_catalog(catalog_url: str, tmp_path: Path) -> None:
    require_testdata()
    settings = Settings(data_dir=tmp_path / "node", catalog_url=catalog_url)
    for i, path in enumerate(G1K_BATCHES[:2]):
        ingest(settings, IngestRequest(files=[path], dataset="1000g", centre=f"centre-{i + 1}"))
    counts = national_counts(settings)
    assert len(counts) > 5000
    assert {an for (_, an, _, _) in counts.values()} == {2000}
    from genomenode.query.service import NodeQueries

    with NodeQueries(settings) as q:
        [summary] = q.datasets()
    assert (summary.n_samples, summary.n_files, summary.centres) == (1000, 2, ["centre-1", "centre-2"])


def test_ingest__an_indexed_file_split_over_processes_counts_the_same(
    tmp_path: Path, joint_reference: Counts, bcftools: str
) -> None:
    # GIVEN the joint 1000 Genomes file with a tabix index, and settings that split even it in two
    import subprocess

    copy = tmp_path / "joint.vcf.gz"  # the test file is plain gzip: BGZF it (same records) to index it
    subprocess.run([bcftools, "view", "--no-version", "-Oz", "-o", str(copy), str(G1K_JOINT)], check=True)
    subprocess.run([bcftools, "index", "--tbi", str(copy)], check=True)
    settings = Settings(data_dir=tmp_path / "node", ingest_workers=2, parallel_min_bytes=0)
    # WHEN it is ingested by two processes, each reading a stretch of chr22 through the index
    result = ingest(settings, IngestRequest(files=[copy], dataset="1000g", centre="igsr"))
    # THEN it really was split, and the counts are bcftools' exactly
    pieces = {p.stem.rsplit("-", 1)[-1] for p in (settings.store_root / "site_counts").rglob("*.parquet")}
    assert pieces == {"0", "1"}
    assert national_counts(settings) == joint_reference
    assert result.alleles == 9792 and result.files[0].report["records"] == 9750


def test_counts__equal_the_published_info_ac_an(joint_node: Settings, batches_node: Settings, bcftools: str) -> None:
    # The 1000 Genomes release's own INFO/AC (one per ALT) and INFO/AN, as published.
    import subprocess

    from genomenode.ingest.normalize import trim

    out = subprocess.run(
        [bcftools, "query", "-f", "%CHROM\t%POS\t%REF\t%ALT\t%INFO/AC\t%INFO/AN\n", str(G1K_JOINT)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    published: dict[tuple[str, int, str, str], tuple[int, int]] = {}
    for line in out.splitlines():
        chrom, pos, ref, alts, acs, an = line.split("\t")
        for alt, ac in zip(alts.split(","), acs.split(","), strict=True):
            p, r, a = trim(int(pos), ref, alt)
            published.setdefault((f"chr{chrom}", p, r, a), (int(ac), int(an)))
    for node in (joint_node, batches_node):
        ours = {k: (v[0], v[1]) for k, v in national_counts(node).items()}
        carried = {k: v for k, v in published.items() if v[0] > 0 or node is joint_node}
        assert ours == carried


def test_carriers__kept_answers_equal_a_fresh_scan_of_the_calls(batches_node: Settings) -> None:
    # GIVEN five centres' parts, and positions asked one by one, in a range, then again mixed
    from genomenode.query.genotypes import carriers_at
    from genomenode.query.service import NodeQueries
    from genomenode.store.engine import DuckDBEngine

    def rows(table: pa.Table) -> list[tuple[int, str, str, int]]:
        return sorted(zip(*(table[c].to_pylist() for c in ("pos", "ref", "alt", "sample")), strict=True))

    with NodeQueries(batches_node) as q:
        files = q._current().calls_files[("GRCh37", "chr22")]
        span = sorted(
            set(q.variant_cells(assembly="GRCh37", chrom="chr22", region=Region("chr22", 1, 10**9))["pos"].to_pylist())
        )
        singles, window = span[:3], span[100:400]
        mixed = [*span[:2], *span[300:500], span[-1] + 1]  # kept, half kept, and a position nobody has
        for ask in (singles, window, singles, mixed, window):
            # WHEN the node answers (from memory where it can) THEN it is exactly what the files say
            assert rows(q.carriers(assembly="GRCh37", chrom="chr22", positions=ask)) == rows(
                carriers_at(DuckDBEngine(), files, ask)
            )
        assert rows(q.carriers(assembly="GRCh37", chrom="chr22", positions=[])) == []
