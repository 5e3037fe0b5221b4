"""Helpers for pipeline tests: compare national counts with bcftools on the same data."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from genomenode.catalog import repository as repo
from genomenode.catalog.database import catalog_url, open_catalog, session_factory
from genomenode.ingest.normalize import trim
from genomenode.settings import Settings

Counts = dict[tuple[str, int, str, str], tuple[int, int, int, int]]


def bcftools_counts(bcftools: str, vcf: Path) -> Counts:
    """`bcftools norm -m- | +fill-tags` on one file, keys trimmed as genomenode normalises them."""
    norm = subprocess.run([bcftools, "norm", "-m-", "-Ou", str(vcf)], check=True, capture_output=True)
    tags = subprocess.run(
        [bcftools, "+fill-tags", "-Ou", "-", "--", "-t", "AC,AN,AC_Hom,AC_Hemi"],
        input=norm.stdout,
        check=True,
        capture_output=True,
    )
    query = subprocess.run(
        [bcftools, "query", "-f", "%CHROM\t%POS\t%REF\t%ALT\t%AC\t%AN\t%AC_Hom\t%AC_Hemi\n", "-"],
        input=tags.stdout,
        check=True,
        capture_output=True,
    )
    out: Counts = {}
    for line in query.stdout.decode().splitlines():
        chrom, pos, ref, alt, ac, an, ac_hom, ac_hemi = line.split("\t")
        if alt in ("*", "<NON_REF>", "<*>", "."):
            continue
        p, r, a = trim(int(pos), ref, alt)
        chrom = chrom if chrom.startswith("chr") else f"chr{chrom}"
        out.setdefault((chrom, p, r, a), (int(ac), int(an), int(ac_hom) // 2, int(ac_hemi)))
    return out


def national_counts(settings: Settings, *, scope: str = "*") -> Counts:
    """Every overall row of the live variant_stats, read straight from the Parquet files."""
    engine = open_catalog(catalog_url(settings.data_dir, settings.catalog_url))
    try:
        with session_factory(engine)() as s:
            files = [settings.store_root / f.path for f in repo.live_store_files(s, table_name="variant_stats")]
    finally:
        engine.dispose()
    out: Counts = {}
    for f in files:
        t = pq.read_table(f)
        t = t.filter(pc.and_(pc.equal(t["scope"], scope), pc.equal(t["stratum"], "all")))
        for r in t.select(["chrom", "pos", "ref", "alt", "ac", "an", "hom", "hemi"]).to_pylist():
            out[(r["chrom"], r["pos"], r["ref"], r["alt"])] = (r["ac"], r["an"], r["hom"], r["hemi"])
    return out
