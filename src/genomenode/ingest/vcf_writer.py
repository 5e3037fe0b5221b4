"""Writing BGZF VCFs through htslib (cyvcf2), and reading plain site lists such as PharmCAT's.

Writing goes through htslib rather than gzip so that every line is parsed against the header as it
is written (a malformed record fails here, not in a reader later) and the output is real BGZF with
its end-of-file block, which tabix, bcftools and genomenode's own reader all require. It lives in
`genomenode.ingest` because that package is the only one allowed to import cyvcf2.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import cyvcf2

from genomenode.errors import ConfigurationError, VcfFormatError


class Site(NamedTuple):
    """One record of a site-only VCF: where a known variant is, as the file spells it."""

    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    id: str


def read_sites(path: Path) -> list[Site]:
    """Every record of `path` (VCF or bgzipped VCF) as (chrom, pos, ref, alts, id), in file order."""
    try:
        vcf = cyvcf2.VCF(str(path))
    except Exception as exc:  # cyvcf2 raises bare Exception/OSError with htslib's wording
        raise VcfFormatError(f"{path}: cannot open as VCF ({exc})") from exc
    try:
        return [Site(r.CHROM, int(r.POS), r.REF, tuple(r.ALT), r.ID or ".") for r in vcf]
    finally:
        vcf.close()


def write_vcf(path: Path, header_lines: list[str], records: Iterable[str]) -> None:
    """Write a BGZF-compressed VCF atomically: a `.tmp` sibling first, renamed over `path` at the end.

    `header_lines` are the `##` lines followed by the `#CHROM` line; `records` are tab-separated
    VCF data lines without newlines. htslib needs a header object to parse records against, and
    cyvcf2 only builds one from a file, so the header goes to a sibling template file first.
    """
    tmp = path.with_name(path.name + ".tmp")
    template = path.with_name(path.name + ".header.vcf")
    template.write_text("\n".join(header_lines) + "\n", encoding="utf-8")
    try:
        source = cyvcf2.VCF(str(template))
        writer = cyvcf2.Writer(str(tmp), source, mode="wz")
        try:
            for number, line in enumerate(records, start=1):
                try:
                    variant = writer.variant_from_string(line)
                except Exception as exc:
                    raise VcfFormatError(f"{path}: record {number} ({line[:60]!r}…) rejected by htslib: {exc}") from exc
                writer.write_record(variant)
        finally:
            writer.close()
            source.close()
        os.replace(tmp, path)
    finally:
        template.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


def tabix_index(path: Path) -> Path:
    """Index the BGZF VCF `path` with htslib's tabix (`path.tbi`, replaced if there); returns the index.

    cyvcf2 writes BGZF but cannot build an index, so Debian's `tabix` (htslib) does it."""
    tabix = shutil.which("tabix")
    if tabix is None:
        raise ConfigurationError("tabix (htslib) is not installed: apt-get install tabix")
    done = subprocess.run([tabix, "-f", "-p", "vcf", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise VcfFormatError(f"{path}: tabix could not index it: {done.stderr.strip()}")
    return path.with_name(path.name + ".tbi")


def write_without_samples(src: Path, dest: Path, drop: Iterable[str]) -> int:
    """Copy the VCF/BCF `src` to `dest` (BGZF VCF) without the columns named in `drop`.

    Erasure keeps the rest of a submitted file and removes one person: htslib subsets the
    samples as it reads, so the dropped columns are never in memory as text. Returns the number of
    records written; INFO is copied as submitted.
    """
    unwanted = set(drop)
    try:
        source = cyvcf2.VCF(str(src))
    except Exception as exc:
        raise VcfFormatError(f"{src}: cannot open as VCF ({exc})") from exc
    try:
        keep = [s for s in source.samples if s not in unwanted]
        missing = unwanted - set(source.samples)
        if missing:
            raise VcfFormatError(f"{src}: no sample column(s) {', '.join(sorted(missing))} to remove")
        source.set_samples(keep)
        writer = cyvcf2.Writer(str(dest), source, mode="wz")
        n = 0
        try:
            for record in source:
                writer.write_record(record)
                n += 1
        finally:
            writer.close()
        return n
    finally:
        source.close()
