"""Stored alleles with the annotation their files carried: what Beacon's aminoacidChange reads.

A `variants` part keeps each allele's INFO as JSON (`variant_info`, VEP's `CSQ`, bcftools' `BCSQ`
and snpEff's `ANN` among it) and, in its footer, the header descriptions that say what those
`|`-separated values mean (`store.parquet.ANNOTATIONS_KEY`, written at ingest). Parts of files
without such a header are not read. Parts that share one set of headers (files of one annotation
run) are read together, and identical rows (the same allele annotated alike in many files) come
back once, so a caller parses each distinct annotation once. Region semantics are those of
`frequencies`: an allele is in the region when its REF overlaps it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from genomenode.domain.consequence import AnnotationFormat, annotate_record, parse_header
from genomenode.domain.consequence_terms import TranscriptConsequence
from genomenode.domain.variant import Region
from genomenode.errors import AnnotationError
from genomenode.store.engine import Parts, StoreEngine
from genomenode.store.parquet import annotation_headers, max_ref_length

COLUMNS = ("pos", "ref", "alt", "source_pos", "source_ref", "source_alts", "source_allele", "variant_info")


@dataclass(frozen=True)
class AnnotatedAlleles:
    """Alleles from files that declared the same annotation fields."""

    headers: Mapping[str, str]  # INFO key → header Description, as these alleles' files declared it
    rows: pa.Table  # COLUMNS; one row per distinct (allele, source record, INFO)


_SQL = """
SELECT DISTINCT pos, ref, alt, source_pos, source_ref, source_alts, source_allele, variant_info
FROM {{variants}}
WHERE pos <= $end AND pos >= $lookback AND pos + length(ref) - 1 >= $start
  AND variant_info IS NOT NULL {contains}
ORDER BY pos, ref, alt, source_pos, source_ref, source_alts, source_allele, variant_info
"""


def annotated_alleles(
    engine: StoreEngine,
    variants_files: Sequence[Path],
    region: Region,
    *,
    info_contains: Sequence[str] = (),
) -> list[AnnotatedAlleles]:
    """The alleles in `region` of the parts whose files carried annotation, one entry per set of
    headers (an entry with no rows still says that such files cover the chromosome).

    `info_contains`: keep only rows whose INFO JSON contains each of these strings, a cheap filter
    in the engine before any annotation is parsed (a protein position, say)."""
    groups: dict[str, list[Path]] = {}
    headers: dict[str, Mapping[str, str]] = {}
    for path in variants_files:
        found = annotation_headers(path)
        if found:
            key = json.dumps(dict(found), sort_keys=True)
            groups.setdefault(key, []).append(path)
            headers[key] = found
    contains = " ".join(f"AND contains(variant_info, $text{i})" for i in range(len(info_contains)))
    sql = _SQL.format(contains=contains)
    out = []
    for key, files in groups.items():
        params: dict[str, object] = {
            "start": region.start,
            "end": region.end,
            "lookback": region.start - max(max_ref_length(p) for p in files) + 1,
            **{f"text{i}": text for i, text in enumerate(info_contains)},
        }
        rows = engine.query(sql, relations={"variants": Parts.of("variants", files)}, params=params)
        out.append(AnnotatedAlleles(headers[key], rows))
    return out


def annotation_formats(group: AnnotatedAlleles) -> list[AnnotationFormat]:
    """The annotation fields (CSQ, BCSQ, ANN...) whose headers these alleles' files declared."""
    formats = []
    for key, description in sorted(group.headers.items()):
        try:
            formats.append(parse_header(key, description))
        except AnnotationError:
            continue  # an INFO key that is not an annotation field
    return formats


def row_transcripts(formats: Sequence[AnnotationFormat], row: Mapping[str, Any]) -> list[TranscriptConsequence]:
    """Every annotation entry about this row's ALT, from each annotation field its INFO holds
    (an entry that disagrees with its header is skipped, as the ingest report already said)."""
    info = json.loads(row["variant_info"])
    out: list[TranscriptConsequence] = []
    for fmt in formats:
        value = info.get(fmt.field_id) if isinstance(info, dict) else None
        if value is None:
            continue
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        alts = row["source_alts"].split(",")
        try:
            record = annotate_record(fmt, text, row["source_ref"], alts, pos=row["source_pos"])
        except AnnotationError:
            continue
        index = row["source_allele"] - 1
        allele = record.alleles[index] if 0 <= index < len(record.alleles) else None
        if allele is not None:
            out.extend(allele.transcripts)
    return out
