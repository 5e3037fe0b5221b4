"""Who is in the synthetic cohort: population, sex, regional centre, trios, ids and consent.

Centres serve different mixes of people (Norrland has many Finnish-descended people, the big-city
regions more recent immigration), which is what makes national frequencies differ from any one
centre's. Trios are rare-disease families: a proband and both parents, sequenced at one centre.
Subject ids are shaped like Swedish personal identity numbers but carry a deliberately wrong check
digit, so none of them can be a real person's. What clinicians recorded of each person's health
(HPO features, diagnoses, age) comes from `clinical` and goes into the sample sheet's last columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from genomenode.domain.phenotypes import years_to_iso
from genomenode.simulate.clinical import Clinical
from genomenode.simulate.demography import POPULATIONS

CENTRES: tuple[str, ...] = ("stockholm", "vastra-gotaland", "skane", "uppsala", "norrland")
CENTRE_CODES: tuple[str, ...] = ("STO", "VGR", "SKA", "UPP", "NRL")
CENTRE_SHARE = np.array([0.30, 0.22, 0.17, 0.13, 0.18])
# Rows follow CENTRES, columns POPULATIONS (NFE, FIN, AFR, SAS, EAS); each row sums to 1.
CENTRE_POPULATION_MIX = np.array(
    [
        [0.66, 0.07, 0.09, 0.10, 0.08],
        [0.72, 0.05, 0.08, 0.09, 0.06],
        [0.76, 0.03, 0.07, 0.09, 0.05],
        [0.80, 0.05, 0.05, 0.05, 0.05],
        [0.70, 0.25, 0.02, 0.02, 0.01],
    ]
)
# Centres that write ages as ISO 8601 durations (P42Y6M); the others write whole years.
ISO_AGE_CENTRES = frozenset({"uppsala", "norrland"})
TRIO_SHARE = 0.10  # of individuals who belong to a trio
# Data use conditions (GA4GH DUO codes) as biobank consents combine them, with how often each occurs.
CONSENTS: tuple[tuple[str, float], ...] = (
    ("GRU", 0.34),
    ("HMB", 0.24),
    ("HMB;IRB", 0.10),
    ("GRU;NPU", 0.08),
    ("HMB;GSO", 0.05),
    ("DS:MONDO:0005148", 0.04),
    ("DS:MONDO:0007254;IRB", 0.03),
    ("HMB;PUB", 0.04),
    ("NRES", 0.08),
)


@dataclass(frozen=True)
class People:
    """Everyone in the cohort, one index per person; parents are -1 for founders."""

    population: npt.NDArray[np.int64]  # index into POPULATIONS
    male: npt.NDArray[np.bool_]
    centre: npt.NDArray[np.int64]  # index into CENTRES
    father: npt.NDArray[np.int64]
    mother: npt.NDArray[np.int64]
    sample_id: tuple[str, ...]
    subject_id: tuple[str, ...]
    consent: tuple[str, ...]
    family: tuple[str, ...]
    clinical: Clinical | None = None  # added by the cohort from its own random stream

    @property
    def size(self) -> int:
        return len(self.sample_id)

    @property
    def children(self) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.father >= 0)


def make_people(n: int, rng: np.random.Generator) -> People:
    """`n` people: families drawn first (whole family in one centre and population), then shuffled."""
    n_trios = max(1, round(n * TRIO_SHARE / 3)) if n >= 3 else 0
    n_units = n - 2 * n_trios  # each trio is one unit of three people
    unit_centre = rng.choice(len(CENTRES), size=n_units, p=CENTRE_SHARE)
    unit_pop = np.array([rng.choice(len(POPULATIONS), p=CENTRE_POPULATION_MIX[c]) for c in unit_centre], np.int64)
    sizes = np.where(np.arange(n_units) < n_trios, 3, 1)
    centre = np.repeat(unit_centre, sizes)
    population = np.repeat(unit_pop, sizes)
    male = rng.random(n) < 0.5
    father = np.full(n, -1, np.int64)
    mother = np.full(n, -1, np.int64)
    for t in range(n_trios):
        dad, mum, child = 3 * t, 3 * t + 1, 3 * t + 2
        male[dad], male[mum] = True, False
        father[child], mother[child] = dad, mum
    # Shuffle so families are not adjacent in the sample sheet; remap parent indices.
    order = rng.permutation(n)
    new_index = np.empty(n, np.int64)
    new_index[order] = np.arange(n)
    father = np.where(father[order] >= 0, new_index[father[order]], -1)
    mother = np.where(mother[order] >= 0, new_index[mother[order]], -1)
    centre, population, male = centre[order], population[order], male[order]
    family_unit = np.repeat(np.arange(n_units), sizes)[order]
    return People(
        population=population,
        male=male,
        centre=centre,
        father=father,
        mother=mother,
        sample_id=_sample_ids(centre, rng),
        subject_id=_subject_ids(male, father, mother, rng),
        consent=_consents(family_unit, rng),
        family=_family_ids(family_unit),
    )


def _sample_ids(centre: npt.NDArray[np.int64], rng: np.random.Generator) -> tuple[str, ...]:
    """`GN-STO-004711`: each centre numbers its own samples, with gaps as a running biobank has."""
    ids = [""] * len(centre)
    for c, code in enumerate(CENTRE_CODES):
        members = np.flatnonzero(centre == c)
        serials = np.sort(rng.choice(999_999, size=len(members), replace=False) + 1)
        for person, serial in zip(members, serials, strict=True):
            ids[person] = f"GN-{code}-{serial:06d}"
    return tuple(ids)


def _subject_ids(
    male: npt.NDArray[np.bool_],
    father: npt.NDArray[np.int64],
    mother: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[str, ...]:
    """`YYYYMMDD-NNNC` personnummer-shaped ids: parents born 1955-1995, probands after them."""
    n = len(male)
    born = np.array([dt.date(1935, 1, 1).toordinal()] * n) + rng.integers(0, 88 * 365, size=n)
    is_parent = np.isin(np.arange(n), np.concatenate([father, mother]))
    born[is_parent] = dt.date(1955, 1, 1).toordinal() + rng.integers(0, 40 * 365, size=int(is_parent.sum()))
    for child in np.flatnonzero(father >= 0):
        born[child] = max(born[father[child]], born[mother[child]]) + int(rng.integers(18 * 365, 40 * 365))
    latest = dt.date(2024, 12, 31).toordinal()
    seen: set[str] = set()
    out: list[str] = []
    for person in range(n):
        day = dt.date.fromordinal(min(int(born[person]), latest))
        while True:
            # The third birth-number digit is odd for men and even for women, as in real numbers.
            serial = int(rng.integers(0, 500)) * 2 + int(male[person])
            digits = f"{day:%y%m%d}{serial:03d}"
            check = (_luhn(digits) + 1 + int(rng.integers(0, 9))) % 10  # never the valid check digit
            subject = f"{day:%Y%m%d}-{serial:03d}{check}"
            if subject not in seen:
                break
        seen.add(subject)
        out.append(subject)
    return tuple(out)


def _luhn(digits: str) -> int:
    """The check digit that would make `digits` a valid personal identity number."""
    total = 0
    for i, ch in enumerate(digits):
        d = int(ch) * (2 - i % 2)
        total += d // 10 + d % 10
    return (10 - total % 10) % 10


def _consents(family_unit: npt.NDArray[np.int64], rng: np.random.Generator) -> tuple[str, ...]:
    """One consent per family: a trio signs the same form."""
    codes = [code for code, _ in CONSENTS]
    weights = np.array([w for _, w in CONSENTS])
    per_unit = rng.choice(len(codes), size=int(family_unit.max()) + 1, p=weights / weights.sum())
    return tuple(codes[per_unit[u]] for u in family_unit)


def _family_ids(family_unit: npt.NDArray[np.int64]) -> tuple[str, ...]:
    """`FAM00012`, numbered in order of each family's first member in the sheet."""
    first_seen: dict[int, int] = {}
    for unit in family_unit.tolist():
        first_seen.setdefault(unit, len(first_seen) + 1)
    return tuple(f"FAM{first_seen[u]:05d}" for u in family_unit.tolist())


def sample_sheet_text(people: People) -> str:
    """samples.tsv as a centre sends it, ordered by centre then sample id."""
    columns = ["sample_id", "subject_id", "sex", "population", "centre", "consent"]
    if people.clinical is not None:
        columns += ["phenotypes", "diseases", "age"]
    lines = ["\t".join(columns)]
    for i in sorted(range(people.size), key=lambda i: (int(people.centre[i]), people.sample_id[i])):
        sex = "male" if people.male[i] else "female"
        centre = CENTRES[people.centre[i]]
        row = [people.sample_id[i], people.subject_id[i], sex, POPULATIONS[people.population[i]], centre]
        row.append(people.consent[i])
        if people.clinical is not None:
            row += _clinical_cells(people.clinical, i, centre)
        lines.append("\t".join(row))
    return "\n".join(lines) + "\n"


def _clinical_cells(clinical: Clinical, i: int, centre: str) -> list[str]:
    features = ";".join([*clinical.present[i], *(f"-{t}" for t in clinical.excluded[i])])
    age = float(clinical.age_years[i])
    if np.isnan(age):
        written = ""
    elif centre in ISO_AGE_CENTRES:
        written = years_to_iso(age)
    else:
        written = str(int(age))
    return [features, ";".join(clinical.diseases[i]), written]


def pedigree_text(people: People) -> str:
    """families.ped: family, individual, father, mother, sex (1/2), phenotype (2 = affected proband)."""
    probands = set(people.children.tolist())
    parents = set(people.father[people.children].tolist()) | set(people.mother[people.children].tolist())
    lines = []
    for i in sorted(range(people.size), key=lambda i: (people.family[i], people.father[i] >= 0, people.sample_id[i])):
        dad = people.sample_id[people.father[i]] if people.father[i] >= 0 else "0"
        mum = people.sample_id[people.mother[i]] if people.mother[i] >= 0 else "0"
        phenotype = "2" if i in probands else "1" if i in parents else "-9"
        sex = "1" if people.male[i] else "2"
        lines.append("\t".join((people.family[i], people.sample_id[i], dad, mum, sex, phenotype)))
    return "\n".join(lines) + "\n"
