"""Samples, subjects and the attributes that stratify allele frequencies."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, text: str) -> Sex | None:
        """Accept the spellings sample sheets and PED files use: female/F/2, male/M/1, unknown/0/-9."""
        key = text.strip().lower()
        if key in ("female", "f", "2", "woman", "xx"):
            return cls.FEMALE
        if key in ("male", "m", "1", "man", "xy"):
            return cls.MALE
        if key in ("unknown", "u", "0", "-9", "", "na", "other"):
            return cls.UNKNOWN
        return None

    @property
    def ncit(self) -> str:
        """The NCIT term Beacon v2 individuals use for this sex (Beacon v2 `individuals.sex`)."""
        return SEX_NCIT[self]


# NCIT General Qualifier terms for sex, as the Beacon v2 individuals schema names them.
SEX_NCIT: dict[Sex, str] = {Sex.FEMALE: "NCIT:C16576", Sex.MALE: "NCIT:C20197", Sex.UNKNOWN: "NCIT:C17998"}
NCIT_SEX: dict[str, Sex] = {term: sex for sex, term in SEX_NCIT.items()}


# The attributes frequencies can be stratified by (`--by`), in the order the CLI lists them.
STRATA: tuple[str, ...] = ("population", "sex", "centre")


@dataclass(frozen=True)
class SampleRecord:
    """One row of a sample sheet, before pseudonymisation."""

    sample_id: str
    subject_id: str
    sex: Sex
    population: str
    centre: str
    consent: str
    line: int = 0
    # What the sheet says of the person's health (domain.phenotypes): HPO terms seen and looked
    # for but absent, disease ids, age in years at sample collection. Empty/None: not given.
    phenotypes: tuple[str, ...] = ()
    excluded_phenotypes: tuple[str, ...] = ()
    diseases: tuple[str, ...] = ()
    age_years: float | None = None


@dataclass(frozen=True)
class PseudonymisedSample:
    """What the store and catalog keep: the subject only as a keyed pseudonym."""

    sample_id: str
    subject_pseudonym: str
    sex: Sex
    population: str
    centre: str
    consent: str
