"""The synthetic cohort's clinical records: current HPO terms, real diagnoses, plausible ages, a
sample sheet the ingest accepts, and the same records for the same seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from genomenode.ingest.samplesheet import read_sample_sheet
from genomenode.simulate.clinical import CONDITIONS, Clinical, every_disease, every_term, make_clinical
from genomenode.simulate.people import People, make_people, sample_sheet_text
from genomenode.store.hpo import Hpo

N = 600


def _cohort(seed: int) -> tuple[People, Clinical]:
    people = make_people(N, np.random.default_rng([seed, 0]))
    clinical = make_clinical(people.subject_id, people.father, people.mother, np.random.default_rng([seed, 6]))
    return people, clinical


def test_conditions__use_current_hpo_terms_and_annotated_diseases(hpo: Hpo) -> None:
    for term in every_term():
        assert hpo.resolve(term) == term, f"{term}: {hpo.problem(term)}"
    for disease in every_disease():
        assert disease.startswith("MONDO:") or hpo.disease_name(disease), disease
    for condition in CONDITIONS:
        # a feature is never both what a patient was referred for and what was ruled out
        assert not set(condition.ruled_out) & set(condition.core), condition.name


def test_make_clinical__probands_are_patients_parents_are_not_and_a_third_of_the_rest() -> None:
    people, clinical = _cohort(7)
    probands = set(np.flatnonzero(people.father >= 0).tolist())
    parents = set(people.father[people.father >= 0].tolist()) | set(people.mother[people.mother >= 0].tolist())
    affected = {i for i in range(N) if clinical.present[i]}
    assert probands <= affected and not parents & affected
    others = set(range(N)) - probands - parents
    assert 0.25 < len(affected & others) / len(others) < 0.45
    assert any(clinical.excluded[i] for i in affected) and any(clinical.diseases[i] for i in affected)
    assert not any(clinical.diseases[i] or clinical.excluded[i] for i in set(range(N)) - affected)
    assert all(not set(clinical.present[i]) & set(clinical.excluded[i]) for i in range(N))


def test_make_clinical__ages_follow_birth_dates_and_sampling_in_2012_to_2024() -> None:
    people, clinical = _cohort(7)
    known = ~np.isnan(clinical.age_years)
    assert 0.9 < known.mean() < 1.0
    for i in np.flatnonzero(known):
        born = dt.date(int(people.subject_id[i][:4]), int(people.subject_id[i][4:6]), int(people.subject_id[i][6:8]))
        sampled = born + dt.timedelta(days=float(clinical.age_years[i]) * 365.25)
        assert dt.date(2011, 12, 31) <= sampled <= dt.date(2025, 1, 1)


def test_make_clinical__the_same_seed_gives_the_same_records() -> None:
    (_, first), (_, again), (_, other) = _cohort(3), _cohort(3), _cohort(4)
    assert (first.present, first.excluded, first.diseases) == (again.present, again.excluded, again.diseases)
    assert np.array_equal(first.age_years, again.age_years, equal_nan=True)
    assert first.present != other.present


def test_sample_sheet__the_ingest_reads_the_clinical_columns(tmp_path: Path, hpo: Hpo) -> None:
    people, clinical = _cohort(7)
    sheet = tmp_path / "samples.tsv"
    sheet.write_text(sample_sheet_text(replace(people, clinical=clinical)))
    assert sheet.read_text().splitlines()[0].endswith("\tphenotypes\tdiseases\tage")

    def resolve(term: str) -> str:
        primary = hpo.resolve(term)
        if primary is None:
            raise LookupError(hpo.problem(term))
        return primary

    rows = {r.sample_id: r for r in read_sample_sheet(sheet, default_centre="x", resolve_hpo=resolve)}
    for i, sample in enumerate(people.sample_id):
        row = rows[sample]
        assert set(row.phenotypes) == set(clinical.present[i]) and set(row.excluded_phenotypes) == set(
            clinical.excluded[i]
        )
        assert row.diseases == clinical.diseases[i]
        if np.isnan(clinical.age_years[i]):
            assert row.age_years is None
        else:
            # whole years in most centres, years and months (P42Y6M) in Uppsala and Norrland
            assert row.age_years == pytest.approx(clinical.age_years[i], abs=1.0)
