"""One person's stored genotypes in a region: individual-level data, read only after policy said yes.

The store keeps calls sparsely (a row where a sample carries an ALT or has a missing allele), so
what comes back is every non-reference or missing call of the person's samples in the region, with
the evidence (DP, GQ, AD) a clinician reviews; a position with no row is reference where the file
covered it. Region semantics as in frequencies: an allele is in the region when its REF overlaps it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from genomenode.domain.variant import Region
from genomenode.store.engine import Parts, StoreEngine
from genomenode.store.parquet import max_ref_length

_SQL = """
SELECT sample, CAST(chrom AS STRING) AS chrom, pos, CAST(ref AS STRING) AS ref, CAST(alt AS STRING) AS alt,
       call_allele1, call_allele2, call_phased, call_dp, call_gq, call_ad_ref, call_ad_alt
FROM {calls}
WHERE sample IN (SELECT value FROM {samples})
  AND pos <= $end AND pos >= $lookback AND pos + length(ref) - 1 >= $start
ORDER BY pos, ref, alt, sample
"""


def _allele(code: int) -> str:
    return "." if code == -1 else str(code)


def genotype_text(a1: int, a2: int, phased: bool) -> str:
    """The call as VCF writes it, relative to this row's ALT: 0 ref, 1 this ALT, 2 another ALT."""
    if a2 == -2:
        return _allele(a1)
    return f"{_allele(a1)}{'|' if phased else '/'}{_allele(a2)}"


def genotypes_in_region(
    engine: StoreEngine,
    calls_files: Sequence[Path],
    region: Region,
    *,
    samples: Mapping[int, str],
) -> list[dict[str, Any]]:
    """The calls of `samples` (store code → the name to show) in `region`, as JSON-ready rows."""
    if not calls_files or not samples:
        return []
    look_back = max(max_ref_length(p) for p in calls_files)
    table = engine.query(
        _SQL,
        relations={"calls": Parts.of("calls", calls_files), "samples": id_list(samples)},
        params={"start": region.start, "end": region.end, "lookback": region.start - look_back + 1},
    )
    rows = zip(*(table.column(i).to_pylist() for i in range(table.num_columns)), strict=True)
    return [
        {
            "sample": samples[r[0]],
            "chrom": r[1],
            "pos": r[2],
            "ref": r[3],
            "alt": r[4],
            "genotype": genotype_text(r[5], r[6], r[7]),
            "dp": None if r[8] < 0 else r[8],
            "gq": None if r[9] < 0 else r[9],
            "ad": None if r[10] < 0 or r[11] < 0 else [r[10], r[11]],
        }
        for r in rows
    ]


_CARRIERS_SQL = """
SELECT pos, CAST(ref AS STRING) AS ref, CAST(alt AS STRING) AS alt, sample
FROM {calls}
WHERE pos IN (SELECT value FROM {positions}) AND (call_allele1 = 1 OR call_allele2 = 1)
"""


_CARRIER_COLUMNS = ["pos", "ref", "alt", "sample", "call_allele1", "call_allele2"]


def carriers_at(engine: StoreEngine, calls_files: Sequence[Path], positions: Sequence[int]) -> pa.Table:
    """(pos, ref, alt, sample) for every stored call carrying the row's ALT at these positions:
    who stands behind an allele, for the Beacon query budget. Samples are store codes (catalog ids)."""
    empty = pa.table({"pos": pa.array([], pa.int32()), "ref": pa.array([], pa.string()),
                      "alt": pa.array([], pa.string()), "sample": pa.array([], pa.int32())})  # fmt: skip
    wanted = sorted(set(positions))
    if not calls_files or not wanted:
        return empty
    if len(wanted) <= 4:  # a sequence query: the few row groups that hold the positions
        pieces = []
        for pos in wanted:
            rows = engine.rows_at(
                calls_files, pos, columns=["pos", "ref", "alt", "sample", "call_allele1", "call_allele2"]
            )
            if rows is None:
                continue
            a1 = np.asarray(rows["call_allele1"].to_numpy(), dtype=np.int8)
            a2 = np.asarray(rows["call_allele2"].to_numpy(), dtype=np.int8)
            rows = rows.take(np.flatnonzero((a1 == 1) | (a2 == 1)))
            pieces.append(rows.select(["pos", "ref", "alt", "sample"]).cast(empty.schema))
        return pa.concat_tables(pieces) if pieces else empty
    relations = {"calls": Parts.of("calls", calls_files), "positions": id_list(wanted)}
    return engine.query(_CARRIERS_SQL, relations=relations).cast(empty.schema)


def id_list(values: Iterable[int]) -> pa.Table:
    """Integers (sample ids, positions) as a one-column (`value`) relation a query joins against."""
    return pa.table({"value": pa.array(list(values), pa.int32())})
