"""What is known about a person's health: phenotype and disease ids, and age, as sample sheets and
Beacon filters write them.

* Phenotypic features are HPO terms, `HP:` and seven digits; a feature may be recorded as
  *excluded* (looked for and absent, phenopackets' `excluded: true`).
* Diseases are OMIM (`OMIM:` six digits), Orphanet (`ORPHA:` digits) or MONDO (`MONDO:` seven digits) ids.
* Ages are in years: a number, or an ISO 8601 duration such as `P42Y6M` (Beacon v2 writes ages so).
"""

from __future__ import annotations

import math
import re

HPO_ID = re.compile(r"HP:\d{7}")
DISEASE_ID = re.compile(r"OMIM:\d{6}|ORPHA:\d{1,7}|MONDO:\d{7}")
DISEASE_PREFIXES = ("OMIM", "ORPHA", "MONDO")
MAX_AGE_YEARS = 150.0
DAYS_PER_YEAR = 365.25
# Prefix spellings seen in the wild, mapped to the CURIE prefix used here.
_PREFIX_ALIASES = {"HPO": "HP", "MIM": "OMIM", "ORPHANET": "ORPHA", "ORDO": "ORPHA"}
_CURIE = re.compile(r"(?P<prefix>[A-Za-z][A-Za-z0-9]*)[:_](?P<local>\S+)")
_DURATION = re.compile(
    r"P(?!$)(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
)


def normalise_curie(text: str) -> str:
    """`hp:0001250`, `HP_0001250` and `HP:0001250` alike become `HP:0001250` (prefix upper case,
    OBO PURL underscores as colons, Orphanet/MIM spelled ORPHA/OMIM); other text comes back stripped."""
    text = text.strip()
    match = _CURIE.fullmatch(text)
    if match is None:
        return text
    prefix = match["prefix"].upper()
    return f"{_PREFIX_ALIASES.get(prefix, prefix)}:{match['local']}"


def is_hpo_id(text: str) -> bool:
    return HPO_ID.fullmatch(text) is not None


def is_disease_id(text: str) -> bool:
    return DISEASE_ID.fullmatch(text) is not None


def iso_duration_years(text: str) -> float:
    """An ISO 8601 duration of years, months, weeks and days (`P42Y6M`, `P3M`, `P10D`) in years.

    Months are twelfths of a year and days 1/365.25 of one, as Beacon implementations count them.
    """
    match = _DURATION.fullmatch(text.strip().upper())
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration in years/months/weeks/days, such as P42Y6M")
    y, m, w, d = (float(match[k] or 0) for k in ("y", "m", "w", "d"))
    return y + m / 12 + (7 * w + d) / DAYS_PER_YEAR


def parse_age_years(text: str) -> float:
    """An age given as years (`42`, `42.5`) or as an ISO 8601 duration (`P42Y6M`), in years."""
    raw = text.strip()
    if raw[:1].upper() == "P":
        years = iso_duration_years(raw)
    else:
        try:
            years = float(raw)
        except ValueError:
            raise ValueError(
                f"age {text!r} is neither a number of years (42 or 42.5) nor an ISO 8601 duration (P42Y6M)"
            ) from None
    if not math.isfinite(years) or not 0 <= years <= MAX_AGE_YEARS:
        raise ValueError(f"age {text!r} is outside 0 to {MAX_AGE_YEARS:g} years")
    return years


def years_to_iso(years: float) -> str:
    """An age in years as the ISO 8601 duration Beacon v2 expects: 42.5 → `P42Y6M`, 0.25 → `P0Y3M`."""
    if not math.isfinite(years) or years < 0:
        raise ValueError(f"no ISO 8601 duration for {years!r} years")
    whole = math.floor(years)
    months = round((years - whole) * 12)
    if months == 12:
        whole, months = whole + 1, 0
    return f"P{whole}Y{months}M" if months else f"P{whole}Y"
