"""Precomputed allele counts per variant, nation-wide and per dataset, overall and per stratum.

AN at an allele is summed over call groups; each group contributes exactly one of:
1. its own record of that allele (called alleles there, ALT copies, hom, hemi);
2. else its record of another allele at the same position (called alleles; this ALT counts as
   REF there, as `bcftools norm -m-` writes a split 1/2 call);
3. else its coverage (a variant-only file's chromosome, a gVCF's reference block): the hom-ref
   alleles it calls there, from the span starting nearest the position where spans overlap;
   outside coverage it contributes nothing (unknown, not hom-ref).
This is what `bcftools merge | norm -m- | +fill-tags` counts on the joint call set, computed from
the small per-file tables rather than from genotypes, one chromosome at a time, in the node's
engine (DuckDB, or Spark on a cluster).

Incrementally: a group's contribution to an allele depends only on that group's own parts, so
new files' statistics are the old ones plus (a) the new groups' contributions to every allele
and (b) the old groups' contributions to the alleles no one had before, read from the old parts
at those positions only. Adding a centre's files reads its own parts, the old statistics and a
position column of the old per-group counts, never the old genotypes; the full computation is
the same query with nothing old.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from genomenode.store.engine import DuckDBEngine, Parts, StoreEngine
from genomenode.store.schema import arrow_schema

STATS_SQL = """
WITH new_sc AS (
    SELECT group_id, pos, CAST(ref AS STRING) AS ref, CAST(alt AS STRING) AS alt, an, ac, hom, hemi
    FROM {site_counts}
),
old_cells AS (
    SELECT CAST(scope AS STRING) AS scope, CAST(stratum AS STRING) AS stratum,
           CAST(stratum_value AS STRING) AS stratum_value, pos, ref, alt, ac, an, hom, hemi, n_files, filters, rsid
    FROM {old_stats}
),
old_alleles AS (
    SELECT pos, ref, alt, n_files, filters, rsid FROM old_cells WHERE scope = '*' AND stratum = 'all'
),
fresh AS (  -- alleles no old group was counted for
    SELECT DISTINCT pos, ref, alt FROM new_sc n
    WHERE NOT EXISTS (SELECT 1 FROM old_alleles o WHERE o.pos = n.pos AND o.ref = n.ref AND o.alt = n.alt)
),
old_sc AS (  -- the old groups' records at the fresh alleles' positions, and only there
    SELECT group_id, pos, CAST(ref AS STRING) AS ref, CAST(alt AS STRING) AS alt, an, ac, hom, hemi
    FROM {old_site_counts}
    WHERE pos IN (SELECT pos FROM fresh)
),
alleles AS (SELECT pos, ref, alt FROM old_alleles UNION ALL SELECT pos, ref, alt FROM fresh),
new_pos AS (SELECT group_id, pos, max(an) AS an FROM new_sc GROUP BY group_id, pos),
old_pos AS (SELECT group_id, pos, max(an) AS an FROM old_sc GROUP BY group_id, pos),
explicit AS (
    SELECT pos, ref, alt, group_id, an, ac, hom, hemi FROM new_sc
    UNION ALL
    SELECT s.pos, s.ref, s.alt, s.group_id, s.an, s.ac, s.hom, s.hemi
    FROM old_sc s JOIN fresh f ON f.pos = s.pos AND f.ref = s.ref AND f.alt = s.alt
),
other_site AS (
    SELECT a.pos, a.ref, a.alt, gp.group_id, gp.an, 0 AS ac, 0 AS hom, 0 AS hemi
    FROM alleles a JOIN new_pos gp ON gp.pos = a.pos
    WHERE NOT EXISTS (
        SELECT 1 FROM new_sc s WHERE s.group_id = gp.group_id AND s.pos = a.pos AND s.ref = a.ref AND s.alt = a.alt
    )
    UNION ALL
    SELECT a.pos, a.ref, a.alt, gp.group_id, gp.an, 0 AS ac, 0 AS hom, 0 AS hemi
    FROM fresh a JOIN old_pos gp ON gp.pos = a.pos
    WHERE NOT EXISTS (
        SELECT 1 FROM old_sc s WHERE s.group_id = gp.group_id AND s.pos = a.pos AND s.ref = a.ref AND s.alt = a.alt
    )
),
covered AS (
    -- where spans overlap (a deletion record over the next reference record), the span that
    -- starts nearest the position describes it: a caller writes a haploid 0 inside a het deletion
    SELECT a.pos, a.ref, a.alt, c.group_id, max_by(c.an, c.start) AS an, 0 AS ac, 0 AS hom, 0 AS hemi
    FROM alleles a JOIN {coverage} c ON a.pos BETWEEN c.start AND c."end"
    WHERE NOT EXISTS (SELECT 1 FROM new_pos gp WHERE gp.group_id = c.group_id AND gp.pos = a.pos)
    GROUP BY a.pos, a.ref, a.alt, c.group_id
    UNION ALL
    SELECT a.pos, a.ref, a.alt, c.group_id, max_by(c.an, c.start) AS an, 0 AS ac, 0 AS hom, 0 AS hemi
    FROM fresh a JOIN {old_coverage} c ON a.pos BETWEEN c.start AND c."end"
    WHERE NOT EXISTS (SELECT 1 FROM old_pos gp WHERE gp.group_id = c.group_id AND gp.pos = a.pos)
    GROUP BY a.pos, a.ref, a.alt, c.group_id
),
contrib AS (
    SELECT * FROM explicit UNION ALL SELECT * FROM other_site UNION ALL SELECT * FROM covered
),
labelled AS (
    -- weight: 1 normally, -1 for a withdrawn person's share of their group, 0 for a withdrawn
    -- group of one (see catalog.models.CallGroup)
    SELECT c.pos, c.ref, c.alt, c.group_id, c.an * g.weight AS an, c.ac * g.weight AS ac,
           c.hom * g.weight AS hom, c.hemi * g.weight AS hemi, g.dataset, g.population, g.sex, g.centre
    FROM contrib c JOIN {groups} g ON g.group_id = c.group_id
),
agg AS (
    SELECT pos, ref, alt, dataset, population, sex, centre,
           GROUPING(dataset) AS g_dataset, GROUPING(population) AS g_pop,
           GROUPING(sex) AS g_sex, GROUPING(centre) AS g_centre,
           CAST(sum(ac) AS INTEGER) AS ac, CAST(sum(an) AS INTEGER) AS an,
           CAST(sum(hom) AS INTEGER) AS hom, CAST(sum(hemi) AS INTEGER) AS hemi
    FROM labelled
    GROUP BY GROUPING SETS (
        (pos, ref, alt), (pos, ref, alt, population), (pos, ref, alt, sex), (pos, ref, alt, centre),
        (pos, ref, alt, dataset), (pos, ref, alt, dataset, population),
        (pos, ref, alt, dataset, sex), (pos, ref, alt, dataset, centre)
    )
),
delta AS (
    SELECT CASE WHEN g_dataset = 1 THEN '*' ELSE dataset END AS scope,
           CASE WHEN g_pop = 0 THEN 'population' WHEN g_sex = 0 THEN 'sex'
                WHEN g_centre = 0 THEN 'centre' ELSE 'all' END AS stratum,
           coalesce(CASE WHEN g_pop = 0 THEN population WHEN g_sex = 0 THEN sex
                         WHEN g_centre = 0 THEN centre END, '') AS stratum_value,
           pos, ref, alt, ac, an, hom, hemi
    FROM agg
),
merged AS (
    SELECT coalesce(d.scope, o.scope) AS scope, coalesce(d.stratum, o.stratum) AS stratum,
           coalesce(d.stratum_value, o.stratum_value) AS stratum_value, coalesce(d.pos, o.pos) AS pos,
           coalesce(d.ref, o.ref) AS ref, coalesce(d.alt, o.alt) AS alt,
           CAST(coalesce(o.ac, 0) + coalesce(d.ac, 0) AS INTEGER) AS ac,
           CAST(coalesce(o.an, 0) + coalesce(d.an, 0) AS INTEGER) AS an,
           CAST(coalesce(o.hom, 0) + coalesce(d.hom, 0) AS INTEGER) AS hom,
           CAST(coalesce(o.hemi, 0) + coalesce(d.hemi, 0) AS INTEGER) AS hemi
    FROM delta d FULL OUTER JOIN old_cells o
      ON o.scope = d.scope AND o.stratum = d.stratum AND o.stratum_value = d.stratum_value
     AND o.pos = d.pos AND o.ref = d.ref AND o.alt = d.alt
),
annot AS (
    SELECT pos, ref, alt, CAST(count(DISTINCT file_id) AS INTEGER) AS n_files, min(variant_rsid) AS rsid
    FROM {variants}
    GROUP BY pos, ref, alt
),
failed AS (
    SELECT pos, ref, alt, {failed_filters} AS filters
    FROM (SELECT DISTINCT pos, ref, alt, variant_filter FROM {variants}
          WHERE variant_filter NOT IN ('PASS', '.')) f
    GROUP BY pos, ref, alt
)
SELECT m.scope, m.stratum, m.stratum_value, $chrom AS chrom, m.pos, m.ref, m.alt, m.ac, m.an, m.hom, m.hemi,
       CAST(coalesce(o.n_files, 0) + coalesce(n.n_files, 0) AS INTEGER) AS n_files,
       CASE WHEN coalesce(o.filters, '') = '' THEN coalesce(f.filters, '')
            WHEN coalesce(f.filters, '') IN ('', o.filters) THEN o.filters END AS filters,
       coalesce(o.filters, '') AS old_filters, coalesce(f.filters, '') AS new_filters,
       CASE WHEN o.rsid IS NULL THEN n.rsid WHEN n.rsid IS NULL OR o.rsid <= n.rsid THEN o.rsid ELSE n.rsid END AS rsid
FROM merged m
LEFT JOIN old_alleles o ON o.pos = m.pos AND o.ref = m.ref AND o.alt = m.alt
LEFT JOIN annot n ON n.pos = m.pos AND n.ref = m.ref AND n.alt = m.alt
LEFT JOIN failed f ON f.pos = m.pos AND f.ref = m.ref AND f.alt = m.alt
WHERE m.an > 0 OR m.ac > 0
ORDER BY m.pos, m.ref, m.alt, m.scope, m.stratum, m.stratum_value
"""
"""`filters` is NULL where old and new files failed different filters: `merge_filters` joins those."""

GROUPS_SCHEMA = pa.schema(
    [
        ("group_id", pa.int32()),
        ("dataset", pa.string()),
        ("population", pa.string()),
        ("sex", pa.string()),
        ("centre", pa.string()),
        ("weight", pa.int32()),
    ]
)


def compute_stats(
    *,
    chrom: str,
    site_files: Sequence[Path],
    coverage_files: Sequence[Path],
    variant_files: Sequence[Path],
    groups: pa.Table,
    threads: int = 2,
    engine: StoreEngine | None = None,
    old_stats_files: Sequence[Path] = (),
    old_site_files: Sequence[Path] = (),
    old_coverage_files: Sequence[Path] = (),
) -> pa.Table:
    """The variant_stats rows of one chromosome.

    From scratch: `site_files`, `coverage_files`, `variant_files` are every live per-file part of
    the chromosome. Incrementally: they are only the new files' parts, and `old_stats_files` (the
    live statistics), `old_site_files` and `old_coverage_files` (the live per-group parts) are what
    was there before. `groups` (GROUPS_SCHEMA) holds every live call group with its weight.
    `engine`: where to run it; none given, a DuckDB engine of `threads` for this call.
    """
    if not site_files and not old_stats_files:
        return arrow_schema("variant_stats").empty_table()
    own = engine is None
    runner = engine or DuckDBEngine(threads=threads)
    try:
        table = runner.query(
            stats_sql(runner),
            relations={
                "site_counts": Parts.of("site_counts", site_files),
                "coverage": Parts.of("coverage", coverage_files),
                "variants": Parts.of("variants", variant_files),
                "old_stats": Parts.of("variant_stats", old_stats_files),
                "old_site_counts": Parts.of("site_counts", old_site_files),
                "old_coverage": Parts.of("coverage", old_coverage_files),
                "groups": groups,
            },
            params={"chrom": chrom},
        )
    finally:
        if own:
            runner.close()
    return merge_filters(table)


def stats_sql(engine: StoreEngine) -> str:
    """STATS_SQL in `engine`'s spelling of the one aggregate the engines spell differently."""
    return STATS_SQL.replace("{failed_filters}", engine.sorted_join("variant_filter", "';'"))


def merge_filters(table: pa.Table) -> pa.Table:
    """Fill `filters` where old and new files failed different filters (their sorted union), and
    drop the two inputs. Rare (an allele failing filters in both), so done row by row."""
    filters = table["filters"].to_pylist()
    if None in filters:
        old, new = table["old_filters"].to_pylist(), table["new_filters"].to_pylist()
        filters = [
            f if f is not None else ";".join(sorted(set(o.split(";")) | set(n.split(";"))))
            for f, o, n in zip(filters, old, new, strict=True)
        ]
        table = table.set_column(table.column_names.index("filters"), "filters", pa.array(filters, pa.string()))
    return table.drop_columns(["old_filters", "new_filters"])
