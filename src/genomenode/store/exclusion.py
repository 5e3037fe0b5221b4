"""One person's own share of their call group's counts: what withdrawal subtracts.

A call group's site_counts and coverage sum its samples. To leave one sample out of the
statistics without re-reading the submitted file, we write an *exclusion group* in the same
stratum whose rows mirror the group's rows exactly (same alleles, same intervals) but hold only
that sample's share, and give it weight -1 in the statistics (store.stats). Mirroring the rows
keeps stats.py's three cases (the allele's own record, another allele's record at the position,
coverage) choosing the same source for both groups, so the difference is exact.

The sample's share at a record comes from its stored calls (every non-reference or missing call
has a row); with no row it called the reference at its ploidy, which is what the builder used for
the group's coverage: expected from sex, or, for unknown sex on X/Y, what its own calls show.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from genomenode.domain.assembly import PAR_REGIONS, Assembly
from genomenode.domain.ploidy import expected_ploidy
from genomenode.domain.samples import Sex

_SITES_SQL = """
WITH g AS (SELECT pos, ref, alt, pass_filter FROM read_parquet($site) WHERE group_id = $group),
c AS (
    SELECT pos, ref, alt, call_allele1 AS a1, call_allele2 AS a2
    FROM read_parquet($calls) WHERE sample = $sample AND file_id = $file
),
c_pos AS (SELECT pos, max((a1 >= 0)::INTEGER + (a2 >= 0)::INTEGER) AS called FROM c GROUP BY pos)
SELECT g.pos, g.ref::VARCHAR AS ref, g.alt::VARCHAR AS alt, g.pass_filter,
       CASE WHEN c.a1 IS NOT NULL THEN (c.a1 >= 0)::INTEGER + (c.a2 >= 0)::INTEGER ELSE c_pos.called END AS called,
       coalesce((c.a1 = 1)::INTEGER + (c.a2 = 1)::INTEGER, 0) AS ac,
       coalesce((c.a1 = 1 AND c.a2 = 1)::INTEGER, 0) AS hom,
       coalesce((c.a1 = 1 AND c.a2 = -2)::INTEGER, 0) AS hemi
FROM g LEFT JOIN c USING (pos, ref, alt) LEFT JOIN c_pos USING (pos)
ORDER BY g.pos, g.ref, g.alt
"""

_NO_CALLS = """(SELECT 0 AS pos, '' AS ref, '' AS alt, 0::TINYINT AS call_allele1, 0::TINYINT AS call_allele2,
                -1 AS sample, -1 AS file_id WHERE false)"""

_SHOWN_PLOIDY_SQL = """
SELECT count(*) FILTER (WHERE call_allele2 = -2) AS haploid, count(*) FILTER (WHERE call_allele2 <> -2) AS diploid
FROM read_parquet($calls) WHERE sample = $sample AND file_id = $file AND pos BETWEEN $lo AND $hi
"""


def _par_mask(assembly: Assembly, chrom: str, pos: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(pos.shape, bool)
    for lo, hi in PAR_REGIONS[assembly].get(chrom, ()):
        mask |= (pos >= lo) & (pos <= hi)
    return mask


def _ploidies(
    con: duckdb.DuckDBPyConnection,
    calls: Sequence[Path],
    *,
    assembly: Assembly,
    chrom: str,
    sex: Sex,
    sample: int,
    file_id: int,
) -> tuple[int, int]:
    """(outside PAR, inside PAR) copies of `chrom` this sample carries."""
    par_probe = next(iter(PAR_REGIONS[assembly].get(chrom, ())), None)
    inside = expected_ploidy(assembly, chrom, par_probe[0], sex) if par_probe else 2
    outside = expected_ploidy(assembly, chrom, 10**9 if not par_probe else par_probe[1] + 1, sex)
    if sex is Sex.UNKNOWN and chrom in ("chrX", "chrY") and calls:
        haploid, diploid = con.execute(
            _SHOWN_PLOIDY_SQL,
            {"calls": [str(p) for p in calls], "sample": sample, "file": file_id, "lo": 0, "hi": 2**31 - 1},
        ).fetchone() or (0, 0)
        if haploid or diploid:
            outside = 1 if haploid >= diploid else 2
        elif chrom == "chrY":
            outside = 0
    return outside, inside


def exclusion_tables(
    *,
    assembly: Assembly,
    chrom: str,
    site_files: Sequence[Path],
    coverage_files: Sequence[Path],
    calls_files: Sequence[Path],
    file_id: int,
    group_id: int,
    sample: int,
    sex: Sex,
    exclusion_group_id: int,
) -> tuple[pa.Table, pa.Table]:
    """(site_counts, coverage) rows of the exclusion group for `sample` of `group_id` on `chrom`."""
    con = duckdb.connect(config={"threads": 2})
    try:
        outside, inside = _ploidies(
            con, calls_files, assembly=assembly, chrom=chrom, sex=sex, sample=sample, file_id=file_id
        )
        sites = _site_rows(con, site_files, calls_files, file_id=file_id, group_id=group_id, sample=sample)
        pos = sites.column("pos").to_numpy().astype(np.int64)
        called = sites.column("called").to_numpy(zero_copy_only=False)
        ploidy = np.where(_par_mask(assembly, chrom, pos), inside, outside)
        an = np.where(np.isnan(called.astype(float)), ploidy, called).astype(np.int32)
        n = sites.num_rows
        site_counts = pa.table(
            {
                "group_id": pa.array(np.full(n, exclusion_group_id, np.int32)),
                "chrom": pa.array([chrom] * n, pa.string()),
                "pos": sites.column("pos").cast(pa.int32()),
                "ref": sites.column("ref"),
                "alt": sites.column("alt"),
                "an": pa.array(an),
                "ac": sites.column("ac").cast(pa.int32()),
                "hom": sites.column("hom").cast(pa.int32()),
                "hemi": sites.column("hemi").cast(pa.int32()),
                "pass_filter": sites.column("pass_filter"),
            }
        )
        coverage = _coverage_rows(
            con, coverage_files, assembly=assembly, chrom=chrom, group_id=group_id, ploidy=(outside, inside)
        )
        coverage = coverage.set_column(
            0, "group_id", pa.array(np.full(coverage.num_rows, exclusion_group_id, np.int32))
        )
        return site_counts, coverage
    finally:
        con.close()


def _site_rows(
    con: duckdb.DuckDBPyConnection,
    site_files: Sequence[Path],
    calls_files: Sequence[Path],
    *,
    file_id: int,
    group_id: int,
    sample: int,
) -> pa.Table:
    if not site_files:
        return pa.table(
            {
                "pos": pa.array([], pa.int32()),
                "ref": pa.array([], pa.string()),
                "alt": pa.array([], pa.string()),
                "pass_filter": pa.array([], pa.bool_()),
                "called": pa.array([], pa.int32()),
                "ac": pa.array([], pa.int32()),
                "hom": pa.array([], pa.int32()),
                "hemi": pa.array([], pa.int32()),
            }
        )
    sql = _SITES_SQL
    params: dict[str, object] = {
        "site": [str(p) for p in site_files],
        "group": group_id,
        "sample": sample,
        "file": file_id,
    }
    if calls_files:
        params["calls"] = [str(p) for p in calls_files]
    else:  # no calls at all: every record is hom-ref for the sample
        sql = sql.replace("read_parquet($calls)", _NO_CALLS)
    return con.sql(sql, params=params).to_arrow_table()


def _coverage_rows(
    con: duckdb.DuckDBPyConnection,
    coverage_files: Sequence[Path],
    *,
    assembly: Assembly,
    chrom: str,
    group_id: int,
    ploidy: tuple[int, int],
) -> pa.Table:
    """The group's intervals, cut at PAR boundaries, each with the sample's hom-ref alleles."""
    empty = pa.table(
        {
            "group_id": pa.array([], pa.int32()),
            "chrom": pa.array([], pa.string()),
            "start": pa.array([], pa.int32()),
            "end": pa.array([], pa.int32()),
            "an": pa.array([], pa.int32()),
        }
    )
    if not coverage_files:
        return empty
    rows = con.execute(
        'SELECT start, "end" FROM read_parquet($files) WHERE group_id = $group ORDER BY start',
        {"files": [str(p) for p in coverage_files], "group": group_id},
    ).fetchall()
    cuts = sorted({b for lo, hi in PAR_REGIONS[assembly].get(chrom, ()) for b in (lo, hi + 1)})
    starts: list[int] = []
    ends: list[int] = []
    ans: list[int] = []
    for start, end in rows:  # intervals, not genotypes: a handful per chromosome and group
        bounds = [start, *[c for c in cuts if start < c <= end], end + 1]
        for lo, nxt in itertools.pairwise(bounds):
            par = bool(_par_mask(assembly, chrom, np.array([lo]))[0])
            a = ploidy[1] if par else ploidy[0]
            if a:
                starts.append(lo)
                ends.append(nxt - 1)
                ans.append(a)
    if not starts:
        return empty
    n = len(starts)
    return pa.table(
        {
            "group_id": pa.array(np.zeros(n, np.int32)),
            "chrom": pa.array([chrom] * n, pa.string()),
            "start": pa.array(starts, pa.int32()),
            "end": pa.array(ends, pa.int32()),
            "an": pa.array(ans, pa.int32()),
        }
    )
