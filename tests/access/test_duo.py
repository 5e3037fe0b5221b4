"""DUO: the vendored ontology, consent and purpose parsing, and matching a purpose to consents.

Facts about the ontology are checked against the vendored release (2021-02-23); the matching
cases follow the DUO definitions and the matching guidance in DUO's README.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from importlib import resources
from typing import Any

import pytest

from genomenode.access import duo
from genomenode.access.duo import (
    DuoOntology,
    ResearchPurpose,
    load_duo,
    match,
    match_all,
    parse_data_use,
)
from genomenode.errors import InputError

DIABETES, TYPE2_DIABETES, CANCER = "MONDO:0005015", "MONDO:0005148", "MONDO:0004992"
_SUBTYPES = {TYPE2_DIABETES: DIABETES}  # a one-edge stand-in for a MONDO lookup


def mondo_is_a(disease: str, consented: str) -> bool:
    while disease != consented and disease in _SUBTYPES:
        disease = _SUBTYPES[disease]
    return disease == consented


def purpose(term: str = "HMB", **facts: Any) -> ResearchPurpose:
    """A non-commercial, not-for-profit, non-methods project unless a test says otherwise."""
    return ResearchPurpose(
        purpose=term, **{"commercial": False, "not_for_profit": True, "methods_research": False, **facts}
    )


def allowed(p: ResearchPurpose, *codes: str, **kw: Any) -> bool:
    return match(p, parse_data_use(list(codes)), **kw).allowed


def reasons(p: ResearchPurpose, *codes: str) -> str:
    return " | ".join(match(p, parse_data_use(list(codes))).reasons)


# -- the ontology file -------------------------------------------------------------------------
def test_ontology__terms_labels_and_hierarchy_come_from_the_vendored_release() -> None:
    o = load_duo()
    assert o.version == "2021-02-23" and len(o.terms) > 20
    assert (
        o.term("HMB").id == "DUO:0000006" and o.term("DUO:0000006").label == "health or medical or biomedical research"
    )
    # is_a, as the file's rdfs:subClassOf says
    assert o.is_a("HMB", "GRU") and o.is_a("DS", "HMB") and o.is_a("DS", "GRU")
    assert o.ancestors("DS") == {"DUO:0000006", "DUO:0000042", "DUO:0000001"}
    assert not o.is_a("POA", "GRU") and o.is_a("POA", "DUO:0000001")  # POA is a sibling of GRU in the file
    assert not o.is_a("GRU", "HMB")
    # NPU and NCU are children of NPUNCU (DUO:0000018); NPU is DUO:0000045 in this release
    assert o.term("NPU").id == "DUO:0000045" and o.term("NCU").id == "DUO:0000046"
    assert o.ancestors("NCU") == {"DUO:0000018", "DUO:0000017"}
    # NPOA's IRI is misspelt in the file (DUO_00000044); its id comes from oboInOwl:id
    assert o.term("NPOA").id == "DUO:0000044"
    assert "population origins or ancestry" in o.term("GRU").comments[0]


def test_ontology__the_hierarchy_is_read_not_hard_coded() -> None:
    # GIVEN the vendored file with HMB moved from under GRU to directly under "data use permission"
    text = resources.files("genomenode.access").joinpath("data", "duo-basic.owl").read_text()
    hmb = text.index('<owl:Class rdf:about="http://purl.obolibrary.org/obo/DUO_0000006">')
    edited = text[:hmb] + text[hmb:].replace("obo/DUO_0000042", "obo/DUO_0000001", 1)
    # WHEN it is read THEN the answers follow the file
    o = DuoOntology.from_owl(edited.encode(), source="edited")
    assert not o.is_a("HMB", "GRU") and not o.is_a("DS", "GRU") and o.is_a("DS", "HMB")
    assert load_duo().is_a("DS", "GRU")


def test_ontology__id_and_shorthand_name_the_same_term_in_any_case() -> None:
    o = load_duo()
    assert o.term("hmb") == o.term(" HMB ") == o.term("DUO:0000006") == o.term("duo:0000006")


def test_unknown_code__input_error_names_it_and_lists_the_shorthands() -> None:
    with pytest.raises(InputError, match="'NOT-A-CODE'") as info:
        parse_data_use(["HMB", "NOT-A-CODE"])
    assert "GRU, GS, GSO, HMB" in str(info.value) and "NPUNCU" in str(info.value)
    with pytest.raises(InputError, match="'XYZ'"):
        load_duo().term("XYZ")
    with pytest.raises(InputError, match="'FOO'"):
        ResearchPurpose(purpose="FOO")


# -- reading consents and purposes -------------------------------------------------------------
def test_parse_data_use__ids_shorthands_and_values() -> None:
    use = parse_data_use(["DS:mondo:0005148", "DUO:0000007:MONDO:0004992", "ncu", "GS:se", "GS:NO", "TS:2027-12-31"])
    assert use.permission == "DUO:0000007" and use.diseases == {TYPE2_DIABETES, CANCER}
    assert use.modifiers == {"DUO:0000046", "DUO:0000022", "DUO:0000025"}
    assert use.countries == {"SE", "NO"} and use.time_limit == date(2027, 12, 31)
    assert parse_data_use(list(use.to_codes())) == use


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["DS"], "DS needs its value.*DS:MONDO:0005148"),
        (["HMB", "GRU"], "two permissions"),
        (["IRB"], "no permission"),
        (["NCU", "DUO:0000031"], "neither a data use permission nor a modifier"),
        (["HMB:MONDO:0005148"], "HMB takes no value"),
        (["GRU", "GS"], "GS needs its value.*GS:SE"),
        (["GRU", "TS:12"], "time_limit_from"),
        (["GRU", "TS:soon"], "not a date"),
        (["DS:diabetes"], "CURIE such as MONDO:0005148"),
        (["GRU", "RS:HMB"], "not a DUO research purpose term"),
        ([], "no permission"),
    ],
)
def test_parse_data_use__refuses_what_it_cannot_evaluate(codes: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_data_use(codes)


def test_parse_data_use__ts_in_months_counts_from_the_consent_date() -> None:
    use = parse_data_use(["GRU", "TS:12"], time_limit_from=date(2024, 1, 31))
    assert use.time_limit == date(2025, 1, 30)
    assert parse_data_use(["GRU", "TS:1"], time_limit_from=date(2024, 1, 31)).time_limit == date(2024, 2, 28)


def test_purpose__reads_a_stored_json_purpose() -> None:
    stored = {"purpose": "DS", "diseases": ["mondo:0005148"], "country": "se", "on": "2025-03-01", "users": ["a"]}
    p = ResearchPurpose.from_dict(stored)
    assert p == ResearchPurpose(**stored)
    assert p.purpose == "DUO:0000007" and p.diseases == {TYPE2_DIABETES} and p.country == "SE"
    assert p.on == date(2025, 3, 1) and p.users == {"a"}
    assert p.commercial is None  # not said, so NCU will refuse it
    with pytest.raises(InputError, match="unknown field comercial; its fields are accepts_publication_moratorium"):
        ResearchPurpose.from_dict({"purpose": "HMB", "comercial": False})
    with pytest.raises(InputError, match=r"'purpose' .* is missing"):
        ResearchPurpose.from_dict({"diseases": [CANCER]})
    with pytest.raises(InputError, match="needs the diseases"):
        ResearchPurpose(purpose="DS")
    with pytest.raises(InputError, match="diseases go with a disease-specific purpose"):
        ResearchPurpose(purpose="HMB", diseases=[CANCER])
    with pytest.raises(InputError, match="not a research purpose"):
        ResearchPurpose(purpose="NCU")
    with pytest.raises(InputError, match="ethics_approved must be true or false"):
        ResearchPurpose(purpose="HMB", ethics_approved="yes")  # type: ignore[arg-type]


# -- permissions -------------------------------------------------------------------------------
def test_gru_consent__allows_hmb_ds_and_poa_purposes() -> None:
    for p in (purpose("HMB"), purpose("DS", diseases=[CANCER]), purpose("POA"), purpose("GRU")):
        assert allowed(p, "GRU"), p.purpose


def test_hmb_consent__allows_hmb_and_ds_purposes_refuses_poa_only_and_general_research() -> None:
    assert allowed(purpose("HMB"), "HMB") and allowed(purpose("DS", diseases=[CANCER]), "HMB")
    assert allowed(purpose("DUO:0000038"), "HMB")  # genetic research is biomedical research
    for poa in ("POA", "DUO:0000033"):  # the permission, and DUO's "ancestry research" purpose
        assert not allowed(purpose(poa), "HMB")
        assert reasons(purpose(poa), "HMB").startswith("DUO:0000006 HMB: health or medical or biomedical research")
    assert not allowed(purpose("GRU"), "HMB")


def test_ds_diabetes_consent__allows_diabetes_and_subtypes_refuses_cancer() -> None:
    assert allowed(purpose("DS", diseases=[DIABETES]), f"DS:{DIABETES}")
    assert allowed(purpose("DS", diseases=[TYPE2_DIABETES]), f"DS:{DIABETES}", disease_is_a=mondo_is_a)
    assert not allowed(purpose("DS", diseases=[TYPE2_DIABETES]), f"DS:{DIABETES}")  # no lookup: exact ids only
    # a consent for the subtype does not cover research on the broader disease
    assert not allowed(purpose("DS", diseases=[DIABETES]), f"DS:{TYPE2_DIABETES}", disease_is_a=mondo_is_a)
    refused = match(purpose("DS", diseases=[CANCER, DIABETES]), parse_data_use([f"DS:{DIABETES}"]))
    assert not refused.allowed and refused.reasons[0].startswith("DUO:0000007 DS")
    assert CANCER in refused.reasons[0] and DIABETES in refused.reasons[0]
    assert not allowed(purpose("HMB"), f"DS:{DIABETES}")


def test_poa_consent__allows_only_ancestry_research() -> None:
    assert allowed(purpose("POA"), "POA") and allowed(purpose("DUO:0000033"), "POA")
    assert not allowed(purpose("HMB"), "POA") and not allowed(purpose("DS", diseases=[CANCER]), "POA")


def test_nres_consent__permits_every_purpose_but_keeps_its_modifiers() -> None:
    anything = purpose("DUO:0000031", commercial=True, not_for_profit=False, methods_research=True)
    assert allowed(anything, "NRES") and allowed(purpose("POA", clinical_care=True), "NRES")
    assert not allowed(anything, "NRES", "IRB")


# -- modifiers ---------------------------------------------------------------------------------
def test_ncu__refuses_commercial_use_and_an_unsaid_one() -> None:
    assert allowed(purpose(commercial=False, not_for_profit=False), "HMB", "NCU")  # a company, non-commercial use
    assert reasons(purpose(commercial=True), "HMB", "NCU") == (
        "DUO:0000046 NCU: non-commercial use only, but the project's use is commercial"
    )
    assert not allowed(ResearchPurpose(purpose="HMB"), "HMB", "NCU")


def test_npu__refuses_a_for_profit_organisation_and_npuncu_refuses_both() -> None:
    assert allowed(purpose(not_for_profit=True), "GRU", "NPU")
    assert reasons(purpose(not_for_profit=False), "GRU", "NPU").startswith("DUO:0000045 NPU")
    assert not allowed(purpose(not_for_profit=False, commercial=False), "GRU", "NPUNCU")
    assert not allowed(purpose(not_for_profit=True, commercial=True), "GRU", "NPUNCU")
    assert allowed(purpose(not_for_profit=True, commercial=False), "GRU", "NPUNCU")


def test_irb__needs_ethics_approval() -> None:
    assert not allowed(purpose(), "HMB", "IRB") and reasons(purpose(), "HMB", "IRB").startswith("DUO:0000021 IRB")
    assert allowed(purpose(ethics_approved=True), "HMB", "IRB")


def test_gs__allows_only_the_listed_countries() -> None:
    assert allowed(purpose(country="SE"), "GRU", "GS:SE", "GS:NO")
    assert reasons(purpose(country="DE"), "GRU", "GS:SE", "GS:NO") == (
        "DUO:0000022 GS: geographical restriction, but the project works in DE, not in NO, SE"
    )
    assert not allowed(purpose(), "GRU", "GS:SE")


def test_ts__allows_use_through_the_last_day_then_expires() -> None:
    assert allowed(purpose(on=date(2027, 12, 31)), "GRU", "TS:2027-12-31")
    late = reasons(purpose(on=date(2028, 1, 1)), "GRU", "TS:2027-12-31")
    assert late.startswith("DUO:0000025 TS: time limit on use, but use ended on 2027-12-31")
    assert not allowed(purpose(), "GRU", "TS:2027-12-31")  # no decision date: refused, never guessed


def test_nmds__refuses_methods_research_except_within_the_consented_disease() -> None:
    methods = {"methods_research": True}
    assert not allowed(purpose(**methods), "HMB", "NMDS") and allowed(purpose(), "HMB", "NMDS")
    assert not allowed(purpose("DUO:0000031"), "GRU", "NMDS")  # DUO's "method development" purpose
    assert allowed(purpose("DS", diseases=[CANCER], **methods), f"DS:{CANCER}", "NMDS")
    assert not allowed(purpose("DS", diseases=[DIABETES], **methods), f"DS:{CANCER}", "NMDS")
    assert not allowed(ResearchPurpose(purpose="HMB"), "HMB", "NMDS")  # methods research not said


@pytest.mark.parametrize(
    ("codes", "refused", "accepted", "term"),
    [
        (["HMB", "COL"], {}, {"collaborates_with_originator": True}, "DUO:0000020 COL"),
        (["HMB", "PUB"], {}, {"will_publish": True}, "DUO:0000019 PUB"),
        (["HMB", "RTN"], {}, {"return_results": True}, "DUO:0000029 RTN"),
        (["HMB", "GSO"], {}, {"genetic_study": True}, "DUO:0000016 GSO"),
        (
            ["HMB", "MOR:2030-01-01"],
            {"on": date(2029, 1, 1)},
            {"accepts_publication_moratorium": True},
            "DUO:0000024 MOR",
        ),
        (["HMB", "US:ann", "US:bo"], {"users": ["ann", "eve"]}, {"users": ["ann", "bo"]}, "DUO:0000026 US"),
        (["HMB", "PS:p1"], {"projects": ["p2"]}, {"projects": ["p1"]}, "DUO:0000027 PS"),
        (["HMB", "IS:ki"], {}, {"institutions": ["ki"]}, "DUO:0000028 IS"),
        (
            ["GRU", "RS:DUO:0000037"],
            {"research_types": ["DUO:0000031"]},
            {"research_types": ["DUO:0000038"]},
            "DUO:0000012 RS",
        ),
        (["GRU", "NPOA"], {"research_types": ["DUO:0000032"]}, {}, "DUO:0000044 NPOA"),
        (["GRU"], {"clinical_care": True}, {}, "DUO:0000043 CC"),
        (["GRU", "CC"], {}, {"clinical_care": True}, None),
    ],
)
def test_modifier__refuses_until_the_project_meets_it(
    codes: list[str], refused: dict[str, Any], accepted: dict[str, Any], term: str | None
) -> None:
    use = parse_data_use(codes)
    if term is not None:
        no = match(purpose(**refused), use)
        assert not no.allowed and no.reasons[0].startswith(term + ":"), no.reasons
    assert match(purpose(**accepted), use).allowed


def test_modifier__every_one_in_the_file_is_evaluated() -> None:
    o = load_duo()
    value = {"DS": "MONDO:1", "GS": "SE", "TS": "2030-01-01", "MOR": "2030-01-01", "US": "u", "PS": "p", "IS": "i"}
    value["RS"] = "DUO:0000037"
    for term in o.terms.values():
        if term.shorthand and "DUO:0000017" in o.ancestors(term.id):
            code = f"{term.shorthand}:{value[term.shorthand]}" if term.shorthand in value else term.shorthand
            decision = match(purpose(), parse_data_use(["GRU", code]))
            assert not any("not evaluated automatically" in r for r in decision.reasons), term.shorthand


# -- every sample ------------------------------------------------------------------------------
def test_match_all__one_failing_sample_refuses_with_grouped_reasons() -> None:
    p = purpose(commercial=True)
    uses = [parse_data_use(c) for c in (["GRU"], ["HMB", "NCU"], ["HMB"], ["HMB", "NCU"], ["POA"])]
    assert match_all(p, [uses[0], uses[2]]).allowed
    decision = match_all(p, uses)
    assert not decision.allowed
    assert decision.reasons[0] == "3 of 5 samples' consent does not permit the purpose"
    assert (
        decision.reasons[1] == "2 of 5: DUO:0000046 NCU: non-commercial use only, but the project's use is commercial"
    )
    assert decision.reasons[2].startswith("1 of 5: DUO:0000011 POA")
    assert not match_all(p, []).allowed  # nothing to grant


def test_match__is_pure_and_takes_the_date_from_the_purpose() -> None:
    use = parse_data_use(["GRU", "TS:2027-12-31"])
    p = purpose(on=date(2027, 6, 1))
    assert match(p, use) == match(p, use)
    assert not match(dataclasses.replace(p, on=date(2028, 6, 1)), use).allowed
    assert duo.TS == "DUO:0000025" and duo.NPU == "DUO:0000045"
