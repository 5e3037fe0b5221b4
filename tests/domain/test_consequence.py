"""Consequences from VEP CSQ, bcftools BCSQ and snpEff ANN: headers, allele matching, severity, LoF evidence.

The bcftools fixture is real `bcftools csq` 1.16 output; the VEP and snpEff fixtures are written
after their documented formats (tests/data/raredisease/*.vcf name how)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genomenode.domain.consequence import (
    AnnotationFormat,
    annotate_record,
    annotate_records,
    annotation_fields,
    parse_header,
    parse_header_line,
)
from genomenode.domain.consequence_terms import (
    SEVERITY_ORDER,
    AnnotationKind,
    Impact,
    RecordConsequences,
    annotation_columns,
    consequence_rank,
    consequence_table,
    vep_alleles,
)
from genomenode.errors import AnnotationError
from genomenode.ingest.vcf import iter_records, read_header

DATA = Path(__file__).resolve().parents[1] / "data" / "raredisease"


def _fixture(name: str, key: str) -> tuple[AnnotationFormat, list[RecordConsequences | None], list[list[str]]]:
    path = DATA / name
    line = next(x for x in path.read_text().splitlines() if x.startswith(f"##INFO=<ID={key},"))
    fmt = parse_header_line(line)
    records = list(iter_records(path, read_header(path), info_fields=frozenset({key})))
    results = annotate_records(
        fmt,
        [r.info.get(key) for r in records],
        refs=[r.ref for r in records],
        alts=[r.alts for r in records],
        chroms=[r.chrom for r in records],
        positions=[r.pos for r in records],
        source=name,
    )
    return fmt, results, [r.alts for r in records]


VEP_COLUMNS = "Allele|Consequence|IMPACT|SYMBOL|Gene|Feature|BIOTYPE|HGVSc|HGVSp|CANONICAL|LoF|pLI_gene_value|LOEUF"
VEP = parse_header("CSQ", f"Consequence annotations from Ensembl VEP. Format: {VEP_COLUMNS}")


def _csq(**values: str) -> str:
    return "|".join(values.get(c, "") for c in VEP_COLUMNS.split("|"))


# --- severity -----------------------------------------------------------------------------------


def test_severity__follows_ensembls_order_for_landmark_terms() -> None:
    order = [t for t, _, _ in SEVERITY_ORDER]
    landmarks = [
        "transcript_ablation",
        "splice_acceptor_variant",
        "stop_gained",
        "frameshift_variant",
        "missense_variant",
        "splice_region_variant",
        "synonymous_variant",
        "5_prime_UTR_variant",
        "intron_variant",
        "intergenic_variant",
    ]
    assert [order.index(t) for t in landmarks] == sorted(order.index(t) for t in landmarks)
    assert len(order) == len(set(order)) == 41
    assert dict((t, i) for t, _, i in SEVERITY_ORDER)["TFBS_ablation"] is Impact.MODERATE


def test_severity__unlisted_term_ranks_after_the_last_listed_term_of_its_impact() -> None:
    high = consequence_rank("exon_loss_variant", Impact.HIGH)
    assert consequence_rank("feature_truncation") < high < consequence_rank("inframe_insertion")
    assert consequence_rank("some_new_term") > consequence_rank("sequence_variant")


def test_severity__snpeff_inframe_names_rank_as_ensembls() -> None:
    assert consequence_rank("disruptive_inframe_deletion") == consequence_rank("inframe_deletion")
    assert consequence_rank("conservative_inframe_insertion") == consequence_rank("inframe_insertion")


# --- headers ------------------------------------------------------------------------------------


def test_parse_header__recognises_each_annotator_from_its_description() -> None:
    vep = parse_header("MYCSQ", "Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT")
    assert vep.kind is AnnotationKind.VEP and vep.columns == ("Allele", "Consequence", "IMPACT")
    ann = parse_header("X", "Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name' ")
    assert ann.kind is AnnotationKind.SNPEFF and ann.columns[2] == "Annotation_Impact"
    bcsq = parse_header("CSQ2", "consequence annotation from BCFtools/csq. Format: Consequence|gene|transcript")
    assert bcsq.kind is AnnotationKind.BCFTOOLS


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("Consequence annotations from Ensembl VEP.", "no 'Format: ...'"),
        ("Consequence annotations from Ensembl VEP. Format: Allele|IMPACT", "no Consequence column"),
        ("Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL|SYMBOL", "SYMBOL more than once"),
        ("Consequence annotations from Ensembl VEP. Format: Allele||Consequence", "empty column name"),
    ],
)
def test_parse_header__refuses_a_description_it_cannot_read(description: str, message: str) -> None:
    with pytest.raises(AnnotationError, match=message) as info:
        parse_header("CSQ", description)
    assert "INFO/CSQ" in str(info.value)


def test_parse_header__unknown_annotator_under_an_unknown_key_is_refused() -> None:
    with pytest.raises(AnnotationError, match="which annotator"):
        parse_header("EFF", "Predicted effects for this variant")


def test_parse_header_line__needs_an_info_line_with_description() -> None:
    with pytest.raises(AnnotationError, match="not an INFO header line"):
        parse_header_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')


def test_annotation_fields__keeps_the_annotation_descriptions_and_drops_plain_info() -> None:
    path = DATA / "snpeff_ann.vcf"
    descriptions = read_header(path).info_descriptions
    assert set(descriptions) >= {"ANN", "LOF"}
    kept = annotation_fields({**descriptions, "CSQ": "Consequence annotations from Ensembl VEP.", "AF": "frequency"})
    assert list(kept) == ["ANN"]  # LOF's Format names no annotator; CSQ without Format cannot be read
    assert parse_header("ANN", kept["ANN"]).kind is AnnotationKind.SNPEFF


def test_carries_protein_changes__needs_an_hgvsp_or_amino_acid_change_column() -> None:
    assert VEP.carries_protein_changes
    assert not parse_header("CSQ", "Ensembl VEP. Format: Allele|Consequence|SYMBOL").carries_protein_changes
    bcsq = parse_header("BCSQ", "BCFtools/csq. Format: Consequence|gene|transcript|biotype|strand|amino_acid_change")
    assert bcsq.carries_protein_changes


def test_interpret_module__still_names_the_parser_it_moved_from() -> None:
    from genomenode.interpret.raredisease import consequence as old

    assert old.parse_header is parse_header and old.Impact is Impact
    assert all(hasattr(old, name) for name in old.__all__)


# --- VEP ----------------------------------------------------------------------------------------


def test_vep_fixture__stop_gained_with_loftee_hc_and_constraint() -> None:
    _, results, _ = _fixture("vep_loftee.vcf", "CSQ")
    stop = results[3]
    assert stop is not None and stop.alleles[0] is not None
    allele = stop.alleles[0]
    assert allele.most_severe == "stop_gained" and allele.impact is Impact.HIGH
    assert allele.gene == "BRCA1" and allele.hgvsp == "ENSP00000350283.3:p.Arg1659Ter"
    assert allele.lof_confidence == "HC"
    assert [(c.gene, c.pli, c.loeuf) for c in allele.constraint] == [("BRCA1", 0.9999, 0.21)]
    # The NMD transcript's intron consequence is kept, not chosen.
    assert {t.transcript for t in allele.transcripts} == {"ENST00000357654", "ENST00000461221"}
    assert "NMD_transcript_variant" in allele.terms


def test_vep_fixture__multiallelic_indel_alleles_follow_veps_trimming() -> None:
    _, results, alts = _fixture("vep_loftee.vcf", "CSQ")
    record = results[4]
    assert alts[4] == ["C", "CT"] and record is not None
    one, two = record.alleles
    assert one is not None and two is not None
    assert one.hgvsc is not None and one.hgvsc.endswith("c.2475_2476del") and one.lof_confidence == "LC"
    assert one.lof[0].filter == "END_TRUNC"
    assert two.hgvsc is not None and two.hgvsc.endswith("c.2476del") and two.lof_confidence == "HC"


def test_vep_fixture__escaped_hgvs_is_decoded_and_missing_columns_stay_none() -> None:
    _, results, _ = _fixture("vep_loftee.vcf", "CSQ")
    synonymous = results[2]
    assert synonymous is not None and synonymous.alleles[0] is not None
    allele = synonymous.alleles[0]
    assert allele.hgvsp == "ENSP00000350283.3:p.His1863="
    assert allele.lof == () and allele.lof_confidence is None
    # The canonical transcript carries no pLI in this record: the gene's value comes from the other one.
    assert allele.constraint[0].pli == 0.9999


def test_vep_fixture__unannotated_record_has_no_consequence() -> None:
    _, results, _ = _fixture("vep_loftee.vcf", "CSQ")
    assert results[1] == RecordConsequences((None,))


def test_vep_fixture__table_has_one_row_per_annotated_allele() -> None:
    _, results, _ = _fixture("vep_loftee.vcf", "CSQ")
    table = consequence_table(results)
    assert table.column("record").to_pylist() == [0, 2, 3, 4, 4]
    assert table.column("consequence").to_pylist() == [
        "inframe_deletion",
        "synonymous_variant",
        "stop_gained",
        "frameshift_variant",
        "frameshift_variant",
    ]
    assert table.column("lof").to_pylist() == [None, None, "HC", "LC", "HC"]


@pytest.mark.parametrize(
    ("ref", "alts", "expected"),
    [
        ("A", ["G"], {"G": 1}),
        ("AT", ["A"], {"-": 1}),
        ("A", ["AT"], {"T": 1}),
        ("CTT", ["C", "CT"], {"-": 1, "T": 2}),
        ("A", ["G", "AT"], {"G": 1, "AT": 2, "T": 2}),  # first bases differ: VEP keeps them; --minimal: T
        ("AT", ["A", "*"], {"-": 1, "*": 2}),
        ("AT", ["A", "AA"], {"-": 1, "A": 2}),  # VEP's "A" is ALT 2, even though ALT 1 is written A in the VCF
        ("A", ["<DEL>"], {"deletion": 1, "<DEL>": 1}),
        ("ATG", ["AAG"], {"AAG": 1, "A": 1}),  # an MNV is not trimmed; --minimal leaves the changed base
    ],
)
def test_vep_alleles__writes_alts_as_vep_does(ref: str, alts: list[str], expected: dict[str, int]) -> None:
    found = vep_alleles(ref, alts)
    assert {k: v for k, v in found.items() if k in expected} == expected


def test_vep_alleles__allele_num_wins_over_the_allele_text() -> None:
    fmt = parse_header("CSQ", "Ensembl VEP. Format: Allele|Consequence|IMPACT|ALLELE_NUM")
    record = annotate_record(fmt, "T|missense_variant|MODERATE|2,T|stop_gained|HIGH|1", "A", ["T", "T"])
    first, second = record.alleles
    assert first is not None and first.most_severe == "stop_gained"
    assert second is not None and second.most_severe == "missense_variant"


def test_vep__most_severe_breaks_ties_by_canonical_transcript() -> None:
    value = ",".join(
        [
            _csq(Allele="T", Consequence="missense_variant", IMPACT="MODERATE", SYMBOL="GENE2", Feature="ENST2"),
            _csq(
                Allele="T",
                Consequence="missense_variant",
                IMPACT="MODERATE",
                SYMBOL="GENE1",
                Feature="ENST1",
                CANONICAL="YES",
            ),
            _csq(Allele="T", Consequence="intron_variant", IMPACT="MODIFIER", SYMBOL="GENE3", Feature="ENST3"),
        ]
    )
    allele = annotate_record(VEP, value, "A", ["T"]).alleles[0]
    assert allele is not None and allele.gene == "GENE1"
    assert allele.genes == ("GENE2", "GENE1", "GENE3")


def test_vep__impact_is_taken_from_the_terms_when_the_column_is_absent() -> None:
    fmt = parse_header("CSQ", "Ensembl VEP. Format: Allele|Consequence|SYMBOL")
    allele = annotate_record(fmt, "T|splice_donor_variant&intron_variant|G", "A", ["T"]).alleles[0]
    assert allele is not None and allele.impact is Impact.HIGH and allele.most_severe == "splice_donor_variant"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("T|missense_variant|MODERATE", "has 3 fields but the header's Format names 13"),
        (_csq(Allele="T", Consequence="missense_variant", IMPACT="SEVERE"), "IMPACT is 'SEVERE'"),
        (_csq(Allele="T", Consequence="stop_gained", IMPACT="HIGH", LoF="YES"), "LoF is 'YES'"),
        (_csq(Allele="T", Consequence="stop_gained", IMPACT="HIGH", pLI_gene_value="high"), "pLI_gene_value is 'high'"),
        (_csq(Allele="T", Consequence="stop_gained", IMPACT="HIGH", LOEUF="-1"), "LOEUF is '-1'"),
        (_csq(Allele="G", Consequence="stop_gained", IMPACT="HIGH"), "Allele 'G' is none of the record's ALTs"),
        (_csq(Allele="", Consequence="stop_gained", IMPACT="HIGH"), "column Allele is empty"),
        (_csq(Allele="T", Consequence="", IMPACT="HIGH"), "column Consequence is empty"),
        (_csq(Allele="T", Consequence="stop gained", IMPACT="HIGH"), "'stop gained' is not a Sequence Ontology term"),
    ],
)
def test_vep__malformed_entry_names_record_field_and_problem(value: str, message: str) -> None:
    with pytest.raises(AnnotationError, match=message) as info:
        annotate_record(VEP, value, "A", ["T"], where="record 7 (chr1:100)")
    assert str(info.value).startswith("record 7 (chr1:100): INFO/CSQ entry 1:")


def test_vep__allele_num_out_of_range_is_refused() -> None:
    fmt = parse_header("CSQ", "Ensembl VEP. Format: Allele|Consequence|ALLELE_NUM")
    with pytest.raises(AnnotationError, match=r"ALLELE_NUM is '3'; the record has ALTs 1\.\.2"):
        annotate_record(fmt, "T|missense_variant|3", "A", ["T", "G"])


# --- bcftools -----------------------------------------------------------------------------------


def test_bcsq_fixture__terms_become_sequence_ontology_terms() -> None:
    _, results, _ = _fixture("bcsq.vcf", "BCSQ")
    most_severe = [r.alleles[0].most_severe if r is not None and r.alleles[0] else None for r in results]
    assert most_severe == [
        "5_prime_UTR_variant",
        "missense_variant",
        "missense_variant",
        "splice_donor_variant",
        "splice_region_variant",
        "intron_variant",
        "splice_acceptor_variant",
        "frameshift_variant",
        "frameshift_variant",
        "3_prime_UTR_variant",
        None,
    ]


def test_bcsq_fixture__compound_references_are_resolved_within_the_batch() -> None:
    _, results, alts = _fixture("bcsq.vcf", "BCSQ")
    owner, referrer = results[1], results[2]
    assert owner is not None and referrer is not None
    assert alts[1] == ["A", "G"]
    assert owner.alleles[0] is not None and owner.alleles[0].compound
    assert owner.alleles[1] is None  # the G allele is on no haplotype, so bcftools says nothing of it
    assert referrer.references == (105,)
    resolved = referrer.alleles[0]
    assert resolved is not None and resolved.compound and resolved.transcripts[0].dna_change == "105T>A+106G>A"


def test_bcsq__unresolved_reference_leaves_the_allele_unannotated() -> None:
    fmt = parse_header(
        "BCSQ", "BCFtools/csq. Format: Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change"
    )
    record = annotate_record(fmt, "@105", "G", ["A"], pos=106)
    assert record.alleles == (None,) and record.references == (105,)


def test_bcsq__position_only_entry_applies_to_every_alt() -> None:
    fmt = parse_header(
        "BCSQ", "BCFtools/csq. Format: Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change"
    )
    record = annotate_record(fmt, "splice_donor|GENE1|T1|protein_coding", "T", ["A", "G"], pos=203)
    assert [a.most_severe if a else None for a in record.alleles] == ["splice_donor_variant"] * 2


def test_bcsq__consequence_downstream_of_a_stop_is_never_preferred_nor_lof() -> None:
    fmt = parse_header(
        "BCSQ", "BCFtools/csq. Format: Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change"
    )
    starred = "*stop_gained&frameshift|GENE1|T1|protein_coding|+|6Y>6*|20T>TA"
    only = annotate_record(fmt, starred, "T", ["TA"], pos=20).alleles[0]
    assert only is not None and only.after_stop and only.most_severe == "stop_gained"
    both = annotate_record(fmt, starred + ",synonymous|GENE1|T2|protein_coding|+|6Y|20T>TA", "T", ["TA"], pos=20)
    allele = both.alleles[0]
    assert allele is not None and not allele.after_stop and allele.most_severe == "synonymous_variant"
    assert "stop_gained" in allele.terms


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("@10x", "'@10x': a bcftools reference is @ and a position"),
        ("missense|G|T", "has 3 fields; bcftools writes 4 to 7"),
        ("missense|G|T|protein_coding|+|2M>2K|105C>A", "dna_change '105C>A' has REF C, but the record's is T"),
        ("missense|G|T|protein_coding|+|2M>2K|105T>C", r"names ALT C, which the record \(A\) lacks"),
        ("missense|G|T|protein_coding|+|2M>2K|105T=A", "bcftools writes POSREF>ALT"),
    ],
)
def test_bcsq__malformed_entry_is_refused(value: str, message: str) -> None:
    fmt = parse_header(
        "BCSQ", "BCFtools/csq. Format: Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change"
    )
    with pytest.raises(AnnotationError, match=message):
        annotate_record(fmt, value, "T", ["A"], pos=105)


# --- snpEff -------------------------------------------------------------------------------------


def test_ann_fixture__alleles_by_alt_text_and_snpeff_terms_ranked() -> None:
    _, results, _ = _fixture("snpeff_ann.vcf", "ANN")
    first = results[0]
    assert first is not None
    a, t = first.alleles
    assert a is not None and a.most_severe == "stop_gained" and a.hgvsp == "p.Arg1659*"
    assert a.genes == ("BRCA1", "NBR2")
    assert t is not None and t.most_severe == "missense_variant" and t.impact is Impact.MODERATE
    second = results[1]
    assert second is not None and second.alleles[0] is not None
    # exon_loss_variant is not Ensembl's; snpEff rates it HIGH, so it outranks the in-frame deletion.
    assert second.alleles[0].most_severe == "exon_loss_variant"
    assert {"disruptive_inframe_deletion", "splice_region_variant"} <= second.alleles[0].terms


def test_ann__allele_that_is_not_an_alt_is_refused() -> None:
    fmt = parse_header("ANN", "Functional annotations: 'Allele | Annotation | Annotation_Impact | Gene_Name'")
    with pytest.raises(AnnotationError, match="Allele 'G' is none of the record's ALTs"):
        annotate_record(fmt, "G|missense_variant|MODERATE|BRCA1", "A", ["T"])


# --- properties and batches --------------------------------------------------------------------

_TERMS = [t for t, _, _ in SEVERITY_ORDER]
_BASES = st.text(alphabet="ACGT", min_size=1, max_size=4)


@given(ref=_BASES, alts=st.lists(_BASES, min_size=1, max_size=3, unique=True))
@settings(max_examples=200, deadline=None)
def test_vep_alleles__every_alt_is_found_under_veps_own_spelling(ref: str, alts: list[str]) -> None:
    alts = [a for a in alts if a != ref]
    if not alts:
        return
    found = vep_alleles(ref, alts)
    for index, alt in enumerate(alts, start=1):
        is_indel = any(len(a) != len(ref) for a in alts)
        if not is_indel:
            spelled = alt
        elif len(alts) == 1:
            spelled = (alt[1:] or "-") if ref[0] == alt[0] else alt
        else:
            spelled = (alt[1:] or "-") if len({s[0] for s in (ref, *alts)}) == 1 else alt
        assert found[spelled] == index


@given(
    picks=st.lists(st.lists(st.sampled_from(_TERMS), min_size=1, max_size=3), min_size=1, max_size=5),
)
@settings(max_examples=100, deadline=None)
def test_annotate__most_severe_is_the_lowest_ranked_term_of_any_transcript(picks: list[list[str]]) -> None:
    value = ",".join(_csq(Allele="T", Consequence="&".join(terms), SYMBOL=f"G{i}") for i, terms in enumerate(picks))
    allele = annotate_record(VEP, value, "A", ["T"]).alleles[0]
    assert allele is not None
    assert allele.most_severe == min((t for terms in picks for t in terms), key=_TERMS.index)
    assert allele.terms == {t for terms in picks for t in terms}


def test_annotate_records__keep_parses_only_the_kept_records() -> None:
    good = _csq(Allele="T", Consequence="missense_variant", IMPACT="MODERATE")
    values = [good, "broken|entry", good]
    out = annotate_records(VEP, values, refs=["A"] * 3, alts=[["T"]] * 3, keep=np.array([True, False, True]))
    assert out[1] is None and out[0] is not None and out[2] is not None
    with pytest.raises(AnnotationError, match="record 2"):
        annotate_records(VEP, values, refs=["A"] * 3, alts=[["T"]] * 3)


def test_annotate_records__thousands_of_vep_records_parse_in_well_under_a_second_each_thousand() -> None:
    entry = ",".join(
        _csq(Allele="T", Consequence=c, IMPACT=i, SYMBOL="BRCA1", Feature=f"ENST{k}", HGVSc="ENST1:c.1A>T")
        for k, (c, i) in enumerate(
            [("stop_gained", "HIGH"), ("intron_variant", "MODIFIER"), ("missense_variant", "MODERATE")]
        )
    )
    n = 5000
    start = time.perf_counter()
    out = annotate_records(VEP, [entry] * n, refs=["A"] * n, alts=[["T"]] * n)
    elapsed = time.perf_counter() - start
    assert all(r is not None and r.alleles[0] is not None for r in out)
    assert elapsed < 5.0  # ~0.2 s here; generous for a loaded CI machine


# --- population frequencies in the entries ------------------------------------------------------

VEP_AF = parse_header(
    "CSQ",
    "Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL|Feature|AF|gnomADe_AF|"
    "gnomADg_NFE_AF|MAX_AF|gnomADe_AC|CLIN_SIG",
)


def test_population_af__the_highest_af_column_of_the_alleles_entries_counts() -> None:
    entries = ",".join(
        [
            "T|missense_variant|GENE1|TX1|0.01|0.002|0.04|.|120|benign",
            "T|intron_variant|GENE1|TX2|0.01|0.002|0.04|0.05&0.3|120|benign",
            "G|missense_variant|GENE1|TX1|||||3|",
        ]
    )
    found = annotate_record(VEP_AF, entries, "C", ["T", "G"], pos=100)
    t_allele, g_allele = found.alleles
    assert t_allele is not None and t_allele.population_af == pytest.approx(0.3)  # MAX_AF's co-located values too
    assert g_allele is not None and g_allele.population_af is None  # no AF given: unknown, not 0
    assert [VEP_AF.columns[i] for i in annotation_columns(VEP_AF).population_af] == [
        "AF",
        "gnomADe_AF",
        "gnomADg_NFE_AF",
        "MAX_AF",
    ]  # gnomADe_AC is a count, not a frequency


def test_population_af__a_format_without_af_columns_gives_none() -> None:
    found = annotate_record(VEP, _csq(Allele="T", Consequence="missense_variant", SYMBOL="G"), "C", ["T"], pos=5)
    assert found.alleles[0] is not None and found.alleles[0].population_af is None


def test_population_af__a_cell_that_is_not_a_number_is_named() -> None:
    with pytest.raises(AnnotationError, match=r"column gnomADe_AF is 'high'"):
        annotate_record(VEP_AF, "T|missense_variant|G|TX|.|high|||1|", "C", ["T"], pos=5)
