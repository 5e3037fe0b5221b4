"""A stored sample's PGx genotypes read back from the national store equal what its VCF says.

Files are built from PharmCAT's position list as its TestVcfBuilder does, ingested through the real
pipeline, and read back with `observed_for_samples`; the reference answer is the same file read
directly (`ingest.vcf.genotypes_at`), both turned into calls by `interpret.pgx.observations`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from genomenode.catalog import repository as repo
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.domain.assembly import Assembly
from genomenode.domain.observed import ObservedGenotype
from genomenode.ingest.vcf import observed_at
from genomenode.ingest.vcf_writer import Site, read_sites, write_vcf
from genomenode.interpret.pgx.observations import DefinitionSite, DefinitionSites, to_calls
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.query.pgx import PgxSite, StoredSample, observed_for_samples, stored_samples
from genomenode.settings import Settings
from genomenode.store.engine import DuckDBEngine
from tests.conftest import REPO

POSITIONS = REPO.parent / "shared" / "reference" / "pgx" / "positions" / "pharmcat_positions.vcf"
pytestmark = pytest.mark.skipif(not POSITIONS.exists(), reason="PharmCAT position list not present")
AUTOSOMAL = ("chr2", "chr10", "chr13")  # UGT1A1, CYP2C19/CYP2C9, NUDT15: enough, and no sex needed


def _sites() -> list[Site]:
    return [s for s in read_sites(POSITIONS) if s.chrom in AUTOSOMAL]


def _header(samples: list[str]) -> list[str]:
    return [
        "##fileformat=VCFv4.2",
        *(f"##contig=<ID={c}>" for c in AUTOSOMAL),
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End of a reference block">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
    ]


def _line(s: Site, gts: list[str], *, alts: tuple[str, ...] | None = None) -> str:
    return "\t".join([s.chrom, str(s.pos), s.id, s.ref, ",".join(alts or s.alts), ".", "PASS", ".", "GT", *gts])


CALLS = {  # rsID → (S1, S2, S3): a PharmCAT-preprocessed joint call, 0/0 everywhere else
    "rs3064744": ["1/2", "0|2", "2/2"],  # UGT1A1 TA repeat: multi-allelic, stored as three rows
    "rs4244285": ["0/1", "1|1", "./."],  # CYP2C19*2
    "rs12248560": ["0/1", "0/0", "0/."],  # *17; S3 partial → missing
}


def _ingest(settings: Settings, path: Path) -> None:
    ingest(settings, IngestRequest(files=[path], dataset="d", centre="c", assembly=Assembly.GRCh38))


def _read_store(settings: Settings, sites: list[PgxSite]) -> dict[str, list[ObservedGenotype]]:
    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    try:
        with session_factory(engine)() as s:
            samples = stored_samples(s, range(1, 1000))
            parts = {
                t: [settings.store_root / f.path for f in repo.live_store_files(s, table_name=t)]
                for t in ("variants", "calls", "coverage")
            }
    finally:
        engine.dispose()
    found = observed_for_samples(
        DuckDBEngine(),
        variants_files=parts["variants"],
        calls_files=parts["calls"],
        coverage_files=parts["coverage"],
        samples=samples,
        sites=sites,
    )
    return {x.name: found[x.id] for x in samples}


def _pgx_sites(sites: list[Site]) -> list[PgxSite]:
    return [PgxSite(s.chrom, s.pos, s.ref) for s in sites]


def _definitions(sites: list[Site]) -> DefinitionSites:
    return DefinitionSites(DefinitionSite(s.chrom, s.pos, s.ref, s.alts) for s in sites)


def test_joint_call_at_every_position__store_gives_the_vcf_s_calls(settings: Settings, tmp_path: Path) -> None:
    # GIVEN a joint call with a record at every position (0/0 included), ingested
    sites = _sites()
    path = tmp_path / "joint.vcf.gz"
    write_vcf(path, _header(["S1", "S2", "S3"]), [_line(s, CALLS.get(s.id, ["0/0"] * 3)) for s in sites])
    _ingest(settings, path)
    # WHEN read back from the store, and straight from the file
    stored = _read_store(settings, _pgx_sites(sites))
    direct = observed_at(path, [(s.chrom, s.pos, s.pos + len(s.ref) - 1) for s in sites])
    definitions = _definitions(sites)
    # THEN every sample has the same call at every position; the TA repeat is one record again
    for name in ("S1", "S2", "S3"):
        assert to_calls(stored[name], definitions) == to_calls(direct[name], definitions), name
    ta = next(s for s in sites if s.id == "rs3064744")
    (s1_ta,) = [o for o in stored["S1"] if o.pos == ta.pos]
    assert (s1_ta.ref, s1_ta.alts, s1_ta.alleles) == (ta.ref, ta.alts, (1, 2))
    assert next(o for o in stored["S2"] if o.pos == ta.pos).phased
    calls = to_calls(stored["S1"], definitions)
    assert len(calls) == len(sites)  # complete: every position called
    s3 = to_calls(stored["S3"], definitions)
    missing = {s.pos for s in sites if s.id in ("rs4244285", "rs12248560")}  # ./. and 0/.
    assert {pos for _, pos in s3} == {s.pos for s in sites} - missing


def test_variant_only_file_without_a_record__missing_not_reference(settings: Settings, tmp_path: Path) -> None:
    # GIVEN a variant-only file with records only where someone carries an ALT
    sites = _sites()
    path = tmp_path / "variants-only.vcf.gz"
    write_vcf(path, _header(["S1", "S2", "S3"]), [_line(s, CALLS[s.id]) for s in sites if s.id in CALLS])
    _ingest(settings, path)
    stored = _read_store(settings, _pgx_sites(sites))
    calls = to_calls(stored["S1"], _definitions(sites))
    # THEN only the positions with a record are called, although the chromosome is "covered"
    assert {k[1] for k in calls} == {s.pos for s in sites if s.id in CALLS}


def test_gvcf_reference_blocks__hom_ref_where_a_block_covers_the_whole_site(settings: Settings, tmp_path: Path) -> None:
    # GIVEN a one-sample gVCF: a block over UGT1A1's first sites, a variant, nothing over the rest
    sites = [s for s in _sites() if s.chrom == "chr2"]
    first, ta, third, fourth = sites
    lines = [
        f"chr2\t{first.pos - 10}\t.\tA\t<NON_REF>\t.\tPASS\tEND={ta.pos + 5}\tGT\t0/0",
        _line(third, ["0/1"], alts=(*third.alts, "<NON_REF>")),
    ]
    path = tmp_path / "one.g.vcf.gz"
    write_vcf(path, _header(["G1"]), lines)
    _ingest(settings, path)
    stored = _read_store(settings, _pgx_sites(sites))
    calls = to_calls(stored["G1"], _definitions(sites))
    # THEN the block makes the first two sites reference, the record calls the third, the fourth is missing
    assert calls[(first.chrom, first.pos)].alleles == (first.ref, first.ref)
    assert calls[(ta.chrom, ta.pos)].alleles == (ta.ref, ta.ref)
    assert calls[(third.chrom, third.pos)].alleles == (third.ref, third.alts[0])
    assert (fourth.chrom, fourth.pos) not in calls


def test_bulk_read__many_samples_in_a_few_ms_each(settings: Settings, tmp_path: Path) -> None:
    # GIVEN 400 samples with a record at every position of three chromosomes
    sites = _sites()
    names = [f"P{i:03d}" for i in range(400)]
    lines = []
    for k, s in enumerate(sites):
        gts = ["0/1" if (i + k) % 37 == 0 else "0/0" for i in range(len(names))]
        lines.append(_line(s, gts))
    path = tmp_path / "many.vcf.gz"
    write_vcf(path, _header(names), lines)
    _ingest(settings, path)
    started = time.perf_counter()
    stored = _read_store(settings, _pgx_sites(sites))
    per_sample = (time.perf_counter() - started) / len(names)
    print(f"store → ObservedGenotype: {1000 * per_sample:.2f} ms a sample ({len(sites)} positions)")
    assert all(len(stored[n]) == len(sites) for n in names)
    assert per_sample < 0.01  # measured ~1 ms a sample on two cores


def test_stored_samples__erased_or_unknown_ids_are_left_out(settings: Settings, tmp_path: Path) -> None:
    sites = _sites()[:3]
    path = tmp_path / "tiny.vcf.gz"
    write_vcf(path, _header(["S1"]), [_line(s, ["0/0"]) for s in sites])
    _ingest(settings, path)
    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    try:
        with session_factory(engine)() as s:
            found = stored_samples(s, [1, 999])
    finally:
        engine.dispose()
    assert [x.name for x in found] == ["S1"] and isinstance(found[0], StoredSample) and not found[0].gvcf
