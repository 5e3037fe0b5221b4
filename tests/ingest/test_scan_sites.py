"""`scan_sites`: the lean first pass agrees with `iter_records` record for record, and fails the same way."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from genomenode.errors import UnsortedVcfError, VcfFormatError
from genomenode.ingest.vcf import (
    SiteScan,
    indexed_spans,
    iter_records,
    read_header,
    scan_sites,
    split_spans,
)

HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=chr1,length=248956422>",
    "##contig=<ID=chr2,length=242193529>",
    "##contig=<ID=chrX,length=156040895>",
    '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">',
    '##INFO=<ID=END,Number=1,Type=Integer,Description="End">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tchild\tfather\tmother\tother",
]
RECORDS = [
    "chr1\t100\t.\tA\tG\t50\tPASS\tAC=2\tGT:GQ:AD\t0/1:30:5,5\t0/0:40:9,0\t0/1:20:4,4\t./.:.:.",
    "chr1\t100\t.\tAT\tA,ATT\t50\tPASS\tAC=1,1\tGT:GQ:AD\t1/2:30:1,4,4\t0/1:40:5,5,0\t0/2:20:4,0,4\t0/0:9:9,0,0",
    "chr1\t205\t.\tC\tCTTT\t.\tq10\t.\tGT:GQ\t0|1:30\t1|1:40\t0|0:20\t0|1:9",
    "chr1\t300\t.\tG\t<DEL>\t50\tPASS\tEND=400;AC=1\tGT\t0/1\t0/0\t0/0\t0/0",
    "chr2\t50\t.\tT\tC,*\t50\tPASS\tAC=1,1\tGT\t./.\t0/2\t1/1\t0/0",
    "chrX\t3000000\t.\tG\tA\t50\tPASS\tAC=2\tGT\t1\t0\t0/1\t.",
]


def _write(path: Path, records: list[str], *, bgzip: bool = False) -> Path:
    text = "\n".join([*HEADER, *records]) + "\n"
    if not bgzip:
        path.write_text(text)
        return path
    plain = path.with_suffix("")
    plain.write_text(text)
    tabix = shutil.which("tabix")
    bgzip_tool = shutil.which("bgzip")
    if tabix is None or bgzip_tool is None:
        pytest.skip("needs bgzip and tabix (htslib tools)")
    subprocess.run([bgzip_tool, "-f", str(plain)], check=True)
    subprocess.run([tabix, "-p", "vcf", str(path)], check=True)
    return path


def _same_as_iter_records(scan: SiteScan, path: Path, samples: list[int]) -> None:
    header = read_header(path)
    records = list(iter_records(path, header))
    assert scan.n == len(records)
    assert [scan.contigs[c] for c in scan.contig] == [r.chrom for r in records]
    assert scan.pos.tolist() == [r.pos for r in records]
    assert scan.end.tolist() == [r.end for r in records]
    assert scan.n_alts.tolist() == [len(r.alts) for r in records]
    assert scan.index.tolist() == [r.index for r in records]
    for i, r in enumerate(records):
        gt = np.full((len(samples), 2), -2, np.int16)
        gt[:, : min(2, r.gt.shape[1])] = r.gt[samples, :2]
        assert scan.alleles[i].tolist() == gt.tolist(), r.where


def test_scan_sites__sites_and_calls_match_iter_records(tmp_path: Path) -> None:
    # GIVEN multi-allelic records, indels, a symbolic deletion with END, a spanning deletion, haploid calls
    path = _write(tmp_path / "a.vcf", RECORDS)
    header = read_header(path)
    # WHEN the family's columns are scanned
    scan = scan_sites(path, header, samples=[0, 1, 2])
    # THEN every record is there, with the alleles iter_records reads (haploid padded with -2)
    _same_as_iter_records(scan, path, [0, 1, 2])
    assert scan.non_variant.tolist() == [0, 0, 0, 0, 0b10, 0]  # ALT 2 of chr2:50 is "*"
    assert scan.end[3] == 400 and scan.records == ()


def test_scan_sites__kept_records_are_iter_records_own(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.vcf", RECORDS)
    header = read_header(path)
    # WHEN a keep callback picks the records the child carries
    scan = scan_sites(path, header, samples=[0], keep=lambda c: (c.alleles[:, 0, :] > 0).any(axis=1))
    # THEN those records come back in full, field for field as iter_records gives them
    expected = [r for r in iter_records(path, header) if (r.gt[0] > 0).any()]
    assert [r.index for r in scan.records] == [r.index for r in expected] == [1, 2, 3, 4, 6]
    for got, want in zip(scan.records, expected, strict=True):
        assert (got.chrom, got.pos, got.end, got.ref, got.alts, got.qual, got.filters, got.info) == (
            want.chrom,
            want.pos,
            want.end,
            want.ref,
            want.alts,
            want.qual,
            want.filters,
            want.info,
        )
        assert np.array_equal(got.gt, want.gt) and np.array_equal(got.phased, want.phased)
        for name in ("gq", "ad", "dp"):
            a, b = getattr(got, name), getattr(want, name)
            assert (a is None and b is None) or np.array_equal(a, b)


def test_scan_sites__pieces_of_an_indexed_file_add_up_to_the_whole(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.vcf.gz", RECORDS, bgzip=True)
    header = read_header(path)
    spans = indexed_spans(path, header)
    assert spans is not None
    pieces = [scan_sites(path, header, samples=[0, 1, 2], regions=r, threads=1) for r in split_spans(spans, 2)]
    whole = scan_sites(path, header, samples=[0, 1, 2])
    joined = SiteScan.concat(pieces, whole.contigs)
    order = np.lexsort((joined.pos, joined.contig))
    assert joined.pos[order].tolist() == whole.pos.tolist()
    assert joined.contig[order].tolist() == whole.contig.tolist()
    assert joined.alleles[order].tolist() == whole.alleles.tolist()


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([RECORDS[0], RECORDS[4], RECORDS[2]], "contig chr1 appears again after chr2"),
        ([RECORDS[2], RECORDS[0]], r"record 2 \(chr1:100\) comes after position 205"),
    ],
)
def test_scan_sites__an_unsorted_file_fails_as_iter_records_does(
    tmp_path: Path, records: list[str], message: str
) -> None:
    path = _write(tmp_path / "unsorted.vcf", records)
    header = read_header(path)
    with pytest.raises(UnsortedVcfError, match=message) as from_iter:
        list(iter_records(path, header))
    with pytest.raises(UnsortedVcfError, match=message) as from_scan:
        scan_sites(path, header, samples=[0])
    assert str(from_scan.value) == str(from_iter.value)


def test_scan_sites__a_truncated_gzip_fails_as_iter_records_does(tmp_path: Path) -> None:
    path = tmp_path / "cut.vcf.gz"
    path.write_bytes(gzip.compress(("\n".join([*HEADER, *RECORDS]) + "\n").encode())[:-40])
    with pytest.raises(VcfFormatError, match="truncated or corrupt gzip"):
        read_header(path)
    header_path = _write(tmp_path / "a.vcf", RECORDS)
    with pytest.raises(VcfFormatError, match="truncated or corrupt gzip"):
        scan_sites(path, read_header(header_path), samples=[0])
