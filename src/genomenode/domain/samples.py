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


@dataclass(frozen=True)
class PseudonymisedSample:
    """What the store and catalog keep: the subject only as a keyed pseudonym."""

    sample_id: str
    subject_pseudonym: str
    sex: Sex
    population: str
    centre: str
    consent: str
