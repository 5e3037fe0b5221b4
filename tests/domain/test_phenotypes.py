"""Phenotype and disease ids and ages as sample sheets and Beacon filters write them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genomenode.domain.phenotypes import (
    is_disease_id,
    is_hpo_id,
    iso_duration_years,
    normalise_curie,
    parse_age_years,
    years_to_iso,
)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("HP:0001250", "HP:0001250"),
        ("hp:0001250", "HP:0001250"),
        (" HP_0001250 ", "HP:0001250"),
        ("Orphanet:558", "ORPHA:558"),
        ("mim:154700", "OMIM:154700"),
        ("mondo:0007947", "MONDO:0007947"),
        ("population", "population"),
    ],
)
def test_normalise_curie__writes_the_prefix_one_way(written: str, expected: str) -> None:
    assert normalise_curie(written) == expected


def test_ids__hpo_and_disease_ids_have_their_shapes() -> None:
    assert is_hpo_id("HP:0001250") and not is_hpo_id("HP:001250") and not is_hpo_id("HP:00012500")
    assert all(is_disease_id(d) for d in ("OMIM:607208", "ORPHA:33069", "MONDO:0100135"))
    assert not any(is_disease_id(d) for d in ("OMIM:60720", "MONDO:123", "DOID:1234", "HP:0001250"))


@pytest.mark.parametrize(
    ("written", "years"),
    [("42", 42.0), ("42.5", 42.5), ("P42Y", 42.0), ("P42Y6M", 42.5), ("P3M", 0.25), ("p1y", 1.0), ("P2W", 14 / 365.25)],
)
def test_parse_age_years__takes_years_and_iso_durations(written: str, years: float) -> None:
    assert parse_age_years(written) == pytest.approx(years)


@pytest.mark.parametrize("written", ["", "P", "PY", "42y", "P42Y6", "-3", "151", "P200Y", "nan", "PT5H", "forty"])
def test_parse_age_years__refuses_what_is_not_an_age(written: str) -> None:
    with pytest.raises(ValueError, match=r"age|duration"):
        parse_age_years(written)


def test_iso_duration_years__counts_months_as_twelfths_and_days_by_365_25() -> None:
    assert iso_duration_years("P1Y6M10D") == pytest.approx(1.5 + 10 / 365.25)


@given(st.integers(0, 149), st.integers(0, 11))
def test_years_to_iso__round_trips_whole_months(years: int, months: int) -> None:
    written = years_to_iso(years + months / 12)
    assert parse_age_years(written) == pytest.approx(years + months / 12)
    assert written == (f"P{years}Y{months}M" if months else f"P{years}Y")
