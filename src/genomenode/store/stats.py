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
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from genomenode.store.engine import DuckDBEngine, Parts, StoreEngine
from genomenode.store.schema import arrow_schema

STATS_SQL = """
WITH sc AS (
    SELECT group_id, pos, CAST(ref AS STRING) AS ref, CAST(alt AS STRING) AS alt, an, ac, hom, hemi
    FROM {site_counts}
),
cov AS (SELECT group_id, start, "end", an FROM {coverage}),
alleles AS (SELECT DISTINCT pos, ref, alt FROM sc),
group_pos AS (SELECT group_id, pos, max(an) AS an FROM sc GROUP BY group_id, pos),
explicit AS (SELECT pos, ref, alt, group_id, an, ac, hom, hemi FROM sc),
other_site AS (
    SELECT a.pos, a.ref, a.alt, gp.group_id, gp.an, 0 AS ac, 0 AS hom, 0 AS hemi
    FROM alleles a JOIN group_pos gp ON gp.pos = a.pos
    WHERE NOT EXISTS (
        SELECT 1 FROM sc WHERE sc.group_id = gp.group_id AND sc.pos = a.pos AND sc.ref = a.ref AND sc.alt = a.alt
    )
),
covered AS (
    -- where spans overlap (a deletion record over the next reference record), the span that
    -- starts nearest the position describes it: a caller writes a haploid 0 inside a het deletion
    SELECT a.pos, a.ref, a.alt, c.group_id, max_by(c.an, c.start) AS an, 0 AS ac, 0 AS hom, 0 AS hemi
    FROM alleles a JOIN cov c ON a.pos BETWEEN c.start AND c."end"
    WHERE NOT EXISTS (SELECT 1 FROM group_pos gp WHERE gp.group_id = c.group_id AND gp.pos = a.pos)
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
SELECT CASE WHEN g_dataset = 1 THEN '*' ELSE dataset END AS scope,
       CASE WHEN g_pop = 0 THEN 'population' WHEN g_sex = 0 THEN 'sex'
            WHEN g_centre = 0 THEN 'centre' ELSE 'all' END AS stratum,
       coalesce(CASE WHEN g_pop = 0 THEN population WHEN g_sex = 0 THEN sex
                     WHEN g_centre = 0 THEN centre END, '') AS stratum_value,
       $chrom AS chrom, agg.pos, agg.ref, agg.alt, ac, an, hom, hemi,
       coalesce(n_files, 0) AS n_files, coalesce(filters, '') AS filters, rsid
FROM agg LEFT JOIN annot USING (pos, ref, alt) LEFT JOIN failed USING (pos, ref, alt)
WHERE an > 0 OR ac > 0
ORDER BY agg.pos, agg.ref, agg.alt, scope, stratum, stratum_value
"""

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
) -> pa.Table:
    """The variant_stats rows of one chromosome, from that chromosome's live per-file parts.

    `groups` (GROUPS_SCHEMA) holds every live call group with its weight. `engine`: where to run
    it (the node's DuckDB or Spark engine); none given, a DuckDB engine of `threads` for this call.
    """
    if not site_files:
        return arrow_schema("variant_stats").empty_table()
    own = engine is None
    runner = engine or DuckDBEngine(threads=threads)
    try:
        sql = STATS_SQL.replace("{failed_filters}", runner.sorted_join("variant_filter", "';'"))
        return runner.query(
            sql,
            relations={
                "site_counts": Parts.of("site_counts", site_files),
                "coverage": Parts.of("coverage", coverage_files),
                "variants": Parts.of("variants", variant_files),
                "groups": groups,
            },
            params={"chrom": chrom},
        )
    finally:
        if own:
            runner.close()
