"""Cohort allele frequencies by region, gene or variant, read from the precomputed variant_stats.

Region semantics are those of tabix/`bcftools view -r`: an allele is in chr1:100-200 when its REF
overlaps the interval, so a deletion starting at 95 and spanning 100 is included. Only the parts of
the chromosome asked for are read (either engine prunes row groups on `pos`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from genomenode.access.disclosure import suppress_small_counts
from genomenode.domain.variant import Region, Variant
from genomenode.store.engine import Parts, StoreEngine, plain_types
from genomenode.store.parquet import max_ref_length

BY_CHOICES = ("population", "sex", "centre")
COLUMNS = ("chrom", "pos", "ref", "alt", "ac", "an", "af", "hom", "hemi")


@dataclass(frozen=True)
class FrequencyRow:
    chrom: str
    pos: int
    ref: str
    alt: str
    ac: int | None  # None: hidden from this caller (a small count, or one that would reveal one)
    an: int
    af: float | None
    hom: int | None
    hemi: int | None
    stratum_value: str | None = None
    filters: str = ""
    rsid: str | None = None

    def as_dict(self, by: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in COLUMNS}
        if by:
            out[by] = self.stratum_value
        out["filters"] = self.filters.split(";") if self.filters else []
        out["rsid"] = self.rsid
        out["suppressed"] = self.ac is None
        return out


_SQL = """
SELECT CAST(chrom AS STRING) AS chrom, pos, ref, alt, ac, an, CASE WHEN an > 0 THEN ac / an END AS af, hom, hemi,
       CAST(stratum_value AS STRING) AS stratum_value, filters, rsid
FROM {{stats}}
WHERE scope = $scope AND stratum = $stratum
  AND pos <= $end AND pos >= $lookback AND pos + length(ref) - 1 >= $start
  {pass_only}
ORDER BY pos, ref, alt, stratum_value NULLS LAST
"""


def frequencies_in_region(
    engine: StoreEngine,
    stats_files: Sequence[Path],
    region: Region,
    *,
    scope: str = "*",
    by: str | None = None,
    pass_only: bool = False,
    floor: int | None = None,
) -> list[FrequencyRow]:
    """`floor`: hide counts below it (callers below CONTROLLED); None shows every count."""
    if not stats_files:
        return []
    look_back = max(max_ref_length(p) for p in stats_files)
    sql = _SQL.format(pass_only="AND filters = ''" if pass_only else "")
    params: dict[str, Any] = {
        "scope": scope,
        "stratum": by or "all",
        "start": region.start,
        "end": region.end,
        "lookback": region.start - look_back + 1,
    }
    relations = {"stats": Parts.of("variant_stats", stats_files)}
    if floor is not None:
        return _suppressed_rows(engine, relations, params, pass_only=pass_only, floor=floor)
    c = engine.query(sql, relations=relations, params=params).to_pydict()
    values = c["stratum_value"] if by else [None] * len(c["pos"])
    return [
        FrequencyRow(*row)
        for row in zip(
            c["chrom"], c["pos"], c["ref"], c["alt"], c["ac"], c["an"], c["af"], c["hom"], c["hemi"], values,
            c["filters"], c["rsid"], strict=True,
        )
    ]  # fmt: skip


_ALL_CELLS_SQL = """
SELECT CAST(scope AS STRING) AS scope, CAST(stratum AS STRING) AS stratum,
       CAST(stratum_value AS STRING) AS stratum_value, CAST(chrom AS STRING) AS chrom,
       pos, ref, alt, ac, an, hom, hemi, filters, rsid
FROM {{stats}}
WHERE pos <= $end AND pos >= $lookback AND pos + length(ref) - 1 >= $start
  {pass_only}
"""


def cells_in_region(
    engine: StoreEngine, stats_files: Sequence[Path], region: Region, *, pass_only: bool = False
) -> pa.Table:
    """Every variant_stats row (all scopes and strata) of the alleles whose REF overlaps `region`."""
    if not stats_files:
        return _empty_cells()
    params = {
        "start": region.start,
        "end": region.end,
        "lookback": region.start - max(max_ref_length(p) for p in stats_files) + 1,
    }
    sql = _ALL_CELLS_SQL.format(pass_only="AND filters = ''" if pass_only else "")
    table = engine.query(sql, relations={"stats": Parts.of("variant_stats", stats_files)}, params=params)
    return table.cast(_empty_cells().schema)


def cells_at(engine: StoreEngine, stats_files: Sequence[Path], positions: Sequence[int]) -> pa.Table:
    """Every variant_stats row at these exact positions, from the row groups that hold them."""
    tables = [t for pos in sorted(set(positions)) if (t := engine.rows_at(stats_files, pos)) is not None]
    if not tables:
        return _empty_cells()
    columns = _empty_cells().column_names
    table = pa.concat_tables([plain_types(t.select(columns)) for t in tables], promote_options="permissive")
    return table.cast(_empty_cells().schema) if table.schema != _empty_cells().schema else table


def _empty_cells() -> pa.Table:
    return pa.table(
        {
            **{c: pa.array([], pa.string()) for c in ("scope", "stratum", "stratum_value", "chrom")},
            "pos": pa.array([], pa.int32()),
            "ref": pa.array([], pa.string()),
            "alt": pa.array([], pa.string()),
            **{c: pa.array([], pa.int32()) for c in ("ac", "an", "hom", "hemi")},
            "filters": pa.array([], pa.string()),
            "rsid": pa.array([], pa.string()),
        }
    )


def _suppressed_rows(
    engine: StoreEngine, relations: dict[str, Parts], params: dict[str, Any], *, pass_only: bool, floor: int
) -> list[FrequencyRow]:
    """Rows with small counts hidden, decided over every cell of each allele (all datasets and
    strata), so no other question to the node can give back what this answer hides."""
    scope, stratum = params.pop("scope"), params.pop("stratum")
    sql = _ALL_CELLS_SQL.format(pass_only="AND filters = ''" if pass_only else "")
    cells = suppress_small_counts(engine.query(sql, relations=relations, params=params), floor=floor)
    wanted = pc.and_(pc.equal(cells["scope"], scope), pc.equal(cells["stratum"], stratum))
    shown = cells.filter(wanted).sort_by([(c, "ascending") for c in ("pos", "ref", "alt", "stratum_value")])
    c = shown.to_pydict()
    values = c["stratum_value"] if stratum != "all" else [None] * shown.num_rows
    return [
        FrequencyRow(chrom, pos, ref, alt, ac, an, ac / an if ac is not None and an else None, hom, hemi, v, f, rs)
        for chrom, pos, ref, alt, ac, an, hom, hemi, v, f, rs in zip(
            c["chrom"], c["pos"], c["ref"], c["alt"], c["ac"], c["an"], c["hom"], c["hemi"], values,
            c["filters"], c["rsid"], strict=True,
        )
    ]  # fmt: skip


def variant_strata(
    engine: StoreEngine, stats_files: Sequence[Path], variant: Variant, *, floor: int | None = None
) -> list[dict[str, Any]]:
    """Every stats row of one allele (nation and datasets, overall and per stratum), read from the
    one row group that holds its position; with `floor`, small counts hidden as in frequencies."""
    table = engine.rows_at(stats_files, variant.pos)
    if table is None:
        return []
    table = table.select(["chrom", "pos", *_VARIANT_COLUMNS])
    # every cell of this allele, and only those: what is hidden is decided per allele
    ref, alt = (np.asarray(table[c].to_numpy(zero_copy_only=False)) for c in ("ref", "alt"))
    table = table.take(np.flatnonzero((ref == variant.ref) & (alt == variant.alt)))
    if floor is not None:
        table = suppress_small_counts(table, floor=floor)
    rows = [r for r in table.to_pylist() if r["ref"] == variant.ref and r["alt"] == variant.alt]
    for r in rows:
        r["af"] = r["ac"] / r["an"] if r["an"] and r["ac"] is not None else None
        r["suppressed"] = r["ac"] is None
    rows.sort(key=lambda r: (r["scope"], r["stratum"], r["stratum_value"]))
    return rows


_VARIANT_COLUMNS = (
    "scope",
    "stratum",
    "stratum_value",
    "ref",
    "alt",
    "ac",
    "an",
    "hom",
    "hemi",
    "n_files",
    "filters",
    "rsid",
)
