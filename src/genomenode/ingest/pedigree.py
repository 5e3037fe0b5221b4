"""Families from a PED file or a GA4GH Phenopacket v2 Family, as `domain.pedigree.Pedigree`.

PED (PLINK/peddy): one person a line, six whitespace- or tab-separated columns

    family  individual  father  mother  sex  phenotype

`0` (or `-9`) is an unknown parent; sex is 1 male, 2 female, 0/-9 unknown; phenotype is 2 affected,
1 unaffected, 0/-9 unknown. Lines starting with `#` are comments (peddy's header line is one); columns
past the sixth (peddy's extras) are ignored. Individual ids must be unique across the file, since they
name VCF columns. Every error names the file and line.

Phenopacket v2 Family (JSON, read with GA4GH's `phenopackets` bindings): the `pedigree.persons`
become the members, the proband's `subject.id` the proband, and each phenopacket's
`phenotypicFeatures` the HPO terms seen (or looked for and `excluded`) in that person. A Family
without pedigree persons is the proband alone (affected).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phenopackets as pp
from google.protobuf import json_format

from genomenode.domain.pedigree import UNKNOWN_IDS, Affection, Member, Pedigree, Sex, pedigree_problems
from genomenode.domain.phenotypes import is_hpo_id, normalise_curie
from genomenode.errors import PedigreeError

_SEX_CODES = {"1": Sex.MALE, "2": Sex.FEMALE, "0": Sex.UNKNOWN, "-9": Sex.UNKNOWN}
_PHENOTYPE_CODES = {"2": Affection.AFFECTED, "1": Affection.UNAFFECTED, "0": Affection.UNKNOWN, "-9": Affection.UNKNOWN}
_COLUMNS = "family, individual, father, mother, sex, phenotype"


def read_ped(path: Path) -> dict[str, Pedigree]:
    """Family id → Pedigree, in the order families first appear in the file."""
    if not path.exists():
        raise PedigreeError(f"{path}: PED file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PedigreeError(f"{path}: not UTF-8 text ({exc}); save the PED file as UTF-8") from exc
    return parse_ped(text, source=str(path))


def parse_ped(text: str, *, source: str = "<PED>") -> dict[str, Pedigree]:
    """PED text → family id → Pedigree; `source` names the file in messages."""
    families: dict[str, list[tuple[int, Member]]] = {}
    seen: dict[str, tuple[str, int]] = {}  # individual id → (family, line)
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = line.split()
        where = f"{source}: line {line_no}"
        if len(cells) < 6:
            raise PedigreeError(
                f"{where}: {len(cells)} column{'s' if len(cells) != 1 else ''}; a PED line needs six "
                f"({_COLUMNS}), separated by tabs or spaces"
            )
        family, individual, father, mother, sex_code, phenotype = cells[:6]
        if individual in UNKNOWN_IDS:
            raise PedigreeError(f"{where}: individual id {individual!r} is the unknown code; give the person an id")
        if individual in seen:
            other_family, other_line = seen[individual]
            again = "again" if other_family == family else f"again (line {other_line} puts it in family {other_family})"
            raise PedigreeError(
                f"{where}: individual {individual} appears {again}; first at line {other_line}. Ids name VCF "
                "columns, so each person needs exactly one line"
            )
        seen[individual] = (family, line_no)
        sex = _SEX_CODES.get(sex_code)
        if sex is None:
            raise PedigreeError(f"{where}: sex {sex_code!r} for {individual}; use 1 (male), 2 (female) or 0 (unknown)")
        affection = _PHENOTYPE_CODES.get(phenotype)
        if affection is None:
            raise PedigreeError(
                f"{where}: phenotype {phenotype!r} for {individual}; use 2 (affected), 1 (unaffected) or "
                "0/-9 (unknown); quantitative phenotypes are not a rare-disease pedigree"
            )
        member = Member(
            id=individual,
            father=None if father in UNKNOWN_IDS else father,
            mother=None if mother in UNKNOWN_IDS else mother,
            sex=sex,
            affection=affection,
        )
        families.setdefault(family, []).append((line_no, member))
    if not families:
        raise PedigreeError(f"{source}: no individuals; a PED file needs one line per person ({_COLUMNS})")
    out: dict[str, Pedigree] = {}
    for family, rows in families.items():
        members = [m for _, m in rows]
        problems = pedigree_problems(family, members)
        if problems:
            member_id, message = problems[0]
            line_of = {m.id: n for n, m in rows}
            where = f"line {line_of[member_id]}: " if member_id in line_of else ""
            raise PedigreeError(f"{source}: {where}{message}")
        out[family] = Pedigree(family, tuple(members))
    return out


@dataclass(frozen=True)
class PhenopacketFamily:
    """A Phenopacket v2 Family: the pedigree (with its proband) and the HPO terms recorded per person."""

    pedigree: Pedigree
    observed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # member → HPO ids seen
    excluded: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # member → HPO ids looked for, absent
    consanguineous: bool = False

    @property
    def proband(self) -> str:
        return self.pedigree.default_proband()  # the reader always names it


_PP_SEX = {0: Sex.UNKNOWN, 1: Sex.FEMALE, 2: Sex.MALE, 3: Sex.UNKNOWN}  # UNKNOWN_SEX, FEMALE, MALE, OTHER_SEX
_PP_AFFECTED = {0: Affection.UNKNOWN, 1: Affection.UNAFFECTED, 2: Affection.AFFECTED}  # MISSING, UNAFFECTED, AFFECTED


def read_phenopacket_family(path: Path) -> PhenopacketFamily:
    if not path.exists():
        raise PedigreeError(f"{path}: Phenopacket file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PedigreeError(f"{path}: not UTF-8 text ({exc}); a Phenopacket is UTF-8 JSON") from exc
    return parse_phenopacket_family(text, source=str(path))


def parse_phenopacket_family(text: str, *, source: str = "<Phenopacket>") -> PhenopacketFamily:
    """A Phenopacket v2 Family message in its JSON form (camelCase or snake_case field names)."""
    try:
        message: Any = json_format.Parse(text, pp.Family())
    except json_format.ParseError as exc:
        raise PedigreeError(
            f"{source}: not a Phenopacket v2 Family ({exc}); check the JSON against the schema "
            "(https://phenopacket-schema.readthedocs.io, message Family)"
        ) from exc
    proband_id = str(message.proband.subject.id)
    if not proband_id:
        raise PedigreeError(f"{source}: proband.subject.id is empty; the Family must name its proband")
    family_id = str(message.id)
    persons = list(message.pedigree.persons)
    subjects = {proband_id: ("proband", message.proband)}
    for i, relative in enumerate(message.relatives):
        rid = str(relative.subject.id)
        if not rid:
            raise PedigreeError(f"{source}: relatives[{i}].subject.id is empty; each relative needs an id")
        if rid in subjects:
            raise PedigreeError(f"{source}: relatives[{i}]: {rid} already has a phenopacket in this Family")
        subjects[rid] = (f"relatives[{i}]", relative)
    members: list[Member] = []
    if not persons:
        subject = message.proband.subject
        members.append(Member(proband_id, sex=_PP_SEX.get(int(subject.sex), Sex.UNKNOWN), affection=Affection.AFFECTED))
        family_id = family_id or proband_id
    for i, person in enumerate(persons):
        where = f"{source}: pedigree.persons[{i}]"
        pid = str(person.individual_id)
        if not pid:
            raise PedigreeError(f"{where}: individualId is empty")
        fam = str(person.family_id)
        if fam and family_id and fam != family_id:
            raise PedigreeError(
                f"{where}: {pid} has familyId {fam} but the Family's id is {family_id}; one Family is one family"
            )
        family_id = family_id or fam
        members.append(
            Member(
                id=pid,
                father=None if person.paternal_id in UNKNOWN_IDS else str(person.paternal_id),
                mother=None if person.maternal_id in UNKNOWN_IDS else str(person.maternal_id),
                sex=_PP_SEX.get(int(person.sex), Sex.UNKNOWN),
                affection=_PP_AFFECTED.get(int(person.affected_status), Affection.UNKNOWN),
            )
        )
    family_id = family_id or proband_id
    index = {m.id: i for i, m in enumerate(members)}
    problems = pedigree_problems(family_id, members, proband_id)
    if problems:
        member_id, message_text = problems[0]
        where = f"pedigree.persons[{index[member_id]}]: " if member_id in index else ""
        raise PedigreeError(f"{source}: {where}{message_text}")
    observed: dict[str, tuple[str, ...]] = {}
    excluded: dict[str, tuple[str, ...]] = {}
    by_id = {m.id: m for m in members}
    for sid, (where, packet) in subjects.items():
        if sid not in by_id:
            raise PedigreeError(
                f"{source}: {where}.subject.id {sid} is not in pedigree.persons; add the person to the pedigree"
            )
        subject_sex = _PP_SEX.get(int(packet.subject.sex), Sex.UNKNOWN)
        person_sex = by_id[sid].sex
        if Sex.UNKNOWN not in (subject_sex, person_sex) and subject_sex is not person_sex:
            raise PedigreeError(
                f"{source}: {where}.subject {sid} is {subject_sex.value} but pedigree.persons[{index[sid]}] "
                f"says {person_sex.value}; correct one of them"
            )
        seen: list[str] = []
        absent: list[str] = []
        for j, feature in enumerate(packet.phenotypic_features):
            term = normalise_curie(str(feature.type.id))
            if not is_hpo_id(term):
                raise PedigreeError(
                    f"{source}: {where}.phenotypicFeatures[{j}].type.id {feature.type.id!r} is not an HPO id "
                    "(HP:0000000)"
                )
            (absent if feature.excluded else seen).append(term)
        if seen:
            observed[sid] = tuple(dict.fromkeys(seen))
        if absent:
            excluded[sid] = tuple(dict.fromkeys(absent))
    pedigree = Pedigree(family_id, tuple(members), proband_id)
    return PhenopacketFamily(pedigree, observed, excluded, bool(message.consanguinous_parents))
