"""Variant consequences from VEP `CSQ`, bcftools `BCSQ` and snpEff `ANN`: moved to `genomenode.domain`.

The parser lives in `domain.consequence` (headers and records) and `domain.consequence_terms`
(SO terms, severity, result types), where Beacon can use it as well as clinical interpretation.
This module keeps the rare-disease code's imports working; new code imports from `domain`.
"""

from __future__ import annotations

from genomenode.domain.consequence import (
    AnnotationFormat,
    annotate_record,
    annotate_records,
    annotation_fields,
    parse_header,
    parse_header_line,
)
from genomenode.domain.consequence_terms import (
    BCSQ_TERMS,
    CONSEQUENCE_SCHEMA,
    LOFTEE_VALUES,
    RANK_ALIASES,
    SEVERITY_ORDER,
    TERM_ACCESSION,
    TERM_IMPACT,
    AlleleConsequence,
    AnnotationKind,
    GeneConstraint,
    Impact,
    LofCall,
    RecordConsequences,
    TranscriptConsequence,
    consequence_rank,
    consequence_table,
    summarise_allele,
    vep_alleles,
)

__all__ = [
    "BCSQ_TERMS",
    "CONSEQUENCE_SCHEMA",
    "LOFTEE_VALUES",
    "RANK_ALIASES",
    "SEVERITY_ORDER",
    "TERM_ACCESSION",
    "TERM_IMPACT",
    "AlleleConsequence",
    "AnnotationFormat",
    "AnnotationKind",
    "GeneConstraint",
    "Impact",
    "LofCall",
    "RecordConsequences",
    "TranscriptConsequence",
    "annotate_record",
    "annotate_records",
    "annotation_fields",
    "consequence_rank",
    "consequence_table",
    "parse_header",
    "parse_header_line",
    "summarise_allele",
    "vep_alleles",
]
