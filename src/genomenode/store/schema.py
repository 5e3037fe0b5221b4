"""Every column the store writes, declared once: name, Arrow type, meaning (habit: sgkit's variables.py).

Tables, one folder each under `<data-dir>/store/<table>/<assembly>/<chrom>/part-*.parquet`, rows
sorted by position so a region query reads a few row groups:

- `variants`: one row per ingested file × normalised ALT allele (provenance, QUAL, FILTER, INFO).
- `calls`: sparse genotypes, one row per sample × allele where the sample is not plainly hom-ref
  (carries an ALT, or a missing allele). Hom-ref calls are implied by the file's coverage.
- `site_counts`: per call group (the samples of one file sharing population, sex and centre) ×
  allele: called alleles, ALT copies, homozygous and hemizygous calls at that record.
- `coverage`: per call group, the intervals where absence of a record means hom-ref (a
  variant-only VCF's chromosomes or BED regions, a gVCF's reference blocks) and the alleles called.
- `variant_stats`: the precomputed national (and per-dataset) allele counts per stratum.

Sample and group ids are integers issued by the catalog: a sample id string is never repeated in
every row, and never one column per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from genomenode.errors import StoreError


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    doc: str
    nullable: bool = False


_KEY = (
    Column("chrom", pa.dictionary(pa.int8(), pa.string()), "canonical contig (chr1..chr22, chrX, chrY, chrM)"),
    Column("pos", pa.int32(), "1-based position of the normalised allele"),
    Column("ref", pa.string(), "normalised reference allele"),
    Column("alt", pa.string(), "normalised alternate allele (one per row)"),
)
# Tables with a row per call or per group repeat each allele many times: dictionary-encoded in
# memory and in Parquet (readers such as Spark still see plain strings).
_KEY_REPEATED = (
    _KEY[0],
    _KEY[1],
    Column("ref", pa.dictionary(pa.int32(), pa.string()), "normalised reference allele"),
    Column("alt", pa.dictionary(pa.int32(), pa.string()), "normalised alternate allele (one per row)"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "variants": (
        Column("file_id", pa.int32(), "catalog id of the ingested file"),
        *_KEY,
        Column("variant_rsid", pa.string(), "the record's ID column", nullable=True),
        Column("variant_qual", pa.float32(), "QUAL", nullable=True),
        Column("variant_filter", pa.string(), "FILTER as written: PASS, '.' or ';'-joined filters"),
        Column("variant_info", pa.string(), "INFO as JSON, Number=A/R fields cut to this allele", nullable=True),
        Column("source_pos", pa.int32(), "POS of the record before normalisation"),
        Column("source_ref", pa.string(), "REF of the record before normalisation"),
        Column("source_alts", pa.string(), "ALT of the record before splitting (comma-separated)"),
        Column("source_allele", pa.int8(), "which ALT of the record (1-based) this row is"),
    ),
    "calls": (
        Column("sample", pa.int32(), "catalog id of the sample (dictionary code)"),
        Column("file_id", pa.int32(), "catalog id of the ingested file"),
        *_KEY_REPEATED,
        Column("call_allele1", pa.int8(), "first allele: 0 ref, 1 this ALT, 2 another ALT, -1 missing"),
        Column("call_allele2", pa.int8(), "second allele, as call_allele1; -2 when the call is haploid"),
        Column("call_phased", pa.bool_(), "GT written with |"),
        Column("call_dp", pa.int32(), "FORMAT/DP, -1 missing"),
        Column("call_gq", pa.int16(), "FORMAT/GQ rounded, -1 missing"),
        Column("call_ad_ref", pa.int32(), "local AD: reads for REF, -1 missing"),
        Column("call_ad_alt", pa.int32(), "local AD: reads for this ALT, -1 missing"),
    ),
    "site_counts": (
        Column("group_id", pa.int32(), "catalog id of the call group"),
        *_KEY_REPEATED,
        Column("an", pa.int32(), "called alleles of the group's samples at this record"),
        Column("ac", pa.int32(), "copies of this ALT"),
        Column("hom", pa.int32(), "calls homozygous for this ALT with ploidy ≥ 2"),
        Column("hemi", pa.int32(), "haploid calls of this ALT"),
        Column("pass_filter", pa.bool_(), "the record's FILTER is PASS or '.'"),
    ),
    "coverage": (
        Column("group_id", pa.int32(), "catalog id of the call group"),
        Column("chrom", pa.dictionary(pa.int8(), pa.string()), "canonical contig"),
        Column("start", pa.int32(), "first position, 1-based"),
        Column("end", pa.int32(), "last position, inclusive"),
        Column("an", pa.int32(), "alleles called hom-ref per position in this interval, summed over the group"),
    ),
    "variant_stats": (
        Column(
            "scope",
            pa.dictionary(pa.int32(), pa.string()),
            "'*' for the nation (all datasets), else a dataset",
        ),
        Column("stratum", pa.dictionary(pa.int8(), pa.string()), "'all', 'population', 'sex' or 'centre'"),
        Column("stratum_value", pa.dictionary(pa.int32(), pa.string()), "the stratum's value; '' for 'all'"),
        *_KEY,
        Column("ac", pa.int32(), "allele count"),
        Column("an", pa.int32(), "allele number: called alleles"),
        Column("hom", pa.int32(), "homozygous ALT calls"),
        Column("hemi", pa.int32(), "hemizygous ALT calls"),
        Column("n_files", pa.int32(), "files carrying a record of this allele"),
        Column("filters", pa.string(), "failed filters across files, ';'-joined; '' when PASS everywhere"),
        Column("rsid", pa.string(), "an ID given by any file", nullable=True),
    ),
}


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type, nullable=c.nullable, metadata={"doc": c.doc}) for c in TABLES[table]])


def conform(table: str, data: pa.Table) -> pa.Table:
    """Cast `data` to the declared schema, refusing missing columns and nulls where none are allowed."""
    schema = arrow_schema(table)
    missing = [f.name for f in schema if f.name not in data.column_names]
    if missing:
        raise StoreError(f"{table}: writer produced no column(s) {', '.join(missing)}")
    data = data.select(schema.names)
    for f in schema:
        if not f.nullable and data.column(f.name).null_count:
            raise StoreError(f"{table}.{f.name}: {data.column(f.name).null_count} null value(s) in a non-null column")
    return data.cast(schema)


def markdown_table() -> str:
    """The docs' schema reference, generated so it cannot drift from the code."""
    lines = ["| table | column | type | meaning |", "|---|---|---|---|"]
    for table, columns in TABLES.items():
        lines += [f"| {table} | `{c.name}` | {c.type} | {c.doc} |" for c in columns]
    return "\n".join(lines)


if __name__ == "__main__":
    print("# Store schema\n\nGenerated from `src/genomenode/store/schema.py` by `python -m genomenode.store.schema`;")
    print("a test fails when this file and the code disagree.\n")
    print(markdown_table())
