"""A family's stored calls, genome-wide, with their alleles' records and national counts.

Individual-level: read only for a case whose caller policy allowed every member, after one audit
entry per member was written (cases.service). One query over the live parts:

* `calls`: every row of the family's samples (non-reference or missing calls; an absent row is
  hom-ref where the file covered the position);
* `variants`: the record of each allele in the file the call came from (INFO as JSON, FILTER,
  the record before normalisation, which CSQ/BCSQ/ANN annotations refer to), and the part it came
  from, whose footer holds the annotation fields' header descriptions;
* `variant_stats`: the nation-wide counts (scope '*', stratum 'all') of each allele.

Rows come back in genome order (the assembly's contig order, position, REF, ALT), then sample;
`allele_row` numbers the distinct alleles from 0 in that order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from genomenode.query.genotypes import id_list
from genomenode.store.engine import Parts, Relation, StoreEngine, local_path
from genomenode.store.parquet import annotation_headers

COLUMNS = (
    "allele_row",
    "sample",
    "chrom",
    "pos",
    "ref",
    "alt",
    "call_allele1",
    "call_allele2",
    "call_dp",
    "call_gq",
    "call_ad_ref",
    "call_ad_alt",
    "variant_rsid",
    "variant_qual",
    "variant_filter",
    "variant_info",
    "source_pos",
    "source_ref",
    "source_alts",
    "source_allele",
    "national_ac",
    "national_an",
)

_SQL = """
WITH c AS (
    SELECT calls.sample, calls.file_id, CAST(calls.chrom AS STRING) AS chrom, calls.pos,
           CAST(calls.ref AS STRING) AS ref, CAST(calls.alt AS STRING) AS alt,
           calls.call_allele1, calls.call_allele2, calls.call_dp, calls.call_gq, calls.call_ad_ref,
           calls.call_ad_alt, contigs.contig_rank
    FROM {calls} calls LEFT JOIN {contigs} contigs ON contigs.chrom = CAST(calls.chrom AS STRING)
    WHERE calls.sample IN (SELECT value FROM {samples})
), v AS (
    SELECT file_id, CAST(chrom AS STRING) AS chrom, pos, ref, alt, variant_rsid, variant_qual, variant_filter,
           variant_info, source_pos, source_ref, source_alts, source_allele, filename AS part
    FROM {variants}
    WHERE file_id IN (SELECT file_id FROM c)
), s AS (
    SELECT CAST(chrom AS STRING) AS chrom, pos, ref, alt, ac, an
    FROM {stats}
    WHERE scope = '*' AND stratum = 'all'
)
SELECT dense_rank() OVER (ORDER BY c.contig_rank NULLS LAST, c.pos, c.ref, c.alt) - 1 AS allele_row,
       c.sample, c.chrom, c.pos, c.ref, c.alt,
       c.call_allele1, c.call_allele2, c.call_dp, c.call_gq, c.call_ad_ref, c.call_ad_alt,
       v.variant_rsid, v.variant_qual, coalesce(v.variant_filter, '.') AS variant_filter, v.variant_info,
       coalesce(v.source_pos, c.pos) AS source_pos, coalesce(v.source_ref, c.ref) AS source_ref,
       coalesce(v.source_alts, c.alt) AS source_alts, CAST(coalesce(v.source_allele, 1) AS TINYINT) AS source_allele,
       CAST(coalesce(s.ac, 0) AS BIGINT) AS national_ac, CAST(coalesce(s.an, 0) AS BIGINT) AS national_an,
       v.part
FROM c
LEFT JOIN v ON v.file_id = c.file_id AND v.chrom = c.chrom AND v.pos = c.pos AND v.ref = c.ref AND v.alt = c.alt
LEFT JOIN s ON s.chrom = c.chrom AND s.pos = c.pos AND s.ref = c.ref AND s.alt = c.alt
ORDER BY allele_row, c.sample
"""


@dataclass(frozen=True)
class FamilyCalls:
    """The family's calls (`COLUMNS`, one row per sample × allele stored) and the header
    descriptions of the annotation fields (CSQ/BCSQ/ANN) their files declared."""

    calls: pa.Table
    info_descriptions: Mapping[str, str]


def family_calls(
    engine: StoreEngine,
    *,
    calls_files: Sequence[Path],
    variants_files: Sequence[Path],
    stats_files: Sequence[Path],
    samples: Sequence[int],
    contigs: Sequence[str],
) -> FamilyCalls:
    """Every stored call of `samples` (catalog sample ids) in `calls_files` (any chromosomes),
    joined to its allele's record and national counts; `contigs`: the assembly's contig order."""
    schema = _schema()
    if not calls_files or not samples:
        return FamilyCalls(schema.empty_table(), {})
    relations: dict[str, Relation] = {
        "calls": Parts.of("calls", calls_files),
        "variants": Parts.of("variants", variants_files, filename=True),
        "stats": Parts.of("variant_stats", stats_files),
        "samples": id_list(sorted(set(samples))),
        "contigs": pa.table({"chrom": list(contigs), "contig_rank": pa.array(range(len(contigs)), pa.int32())}),
    }
    table = engine.query(_SQL, relations=relations)
    parts = [p for p in table["part"].unique().to_pylist() if p]
    descriptions: dict[str, str] = {}
    for part in sorted(parts):
        descriptions.update(annotation_headers(local_path(part)))
    return FamilyCalls(table.drop_columns(["part"]).cast(schema), descriptions)


def _schema() -> pa.Schema:
    return pa.schema(
        [
            ("allele_row", pa.int64()),
            ("sample", pa.int32()),
            ("chrom", pa.string()),
            ("pos", pa.int32()),
            ("ref", pa.string()),
            ("alt", pa.string()),
            ("call_allele1", pa.int8()),
            ("call_allele2", pa.int8()),
            ("call_dp", pa.int32()),
            ("call_gq", pa.int16()),
            ("call_ad_ref", pa.int32()),
            ("call_ad_alt", pa.int32()),
            ("variant_rsid", pa.string()),
            ("variant_qual", pa.float32()),
            ("variant_filter", pa.string()),
            ("variant_info", pa.string()),
            ("source_pos", pa.int32()),
            ("source_ref", pa.string()),
            ("source_alts", pa.string()),
            ("source_allele", pa.int8()),
            ("national_ac", pa.int64()),
            ("national_an", pa.int64()),
        ]
    )
