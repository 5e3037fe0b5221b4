"""A family as clinical genetics draws it: who is whose parent, each person's sex and whether they are affected.

A PED file or a GA4GH Phenopacket v2 Family (`ingest/pedigree.py`) becomes a `Pedigree`. Construction
checks it (unique ids, parents present or unknown, a father who is not female and a mother who is not
male, nobody their own ancestor) and raises `PedigreeError` naming the member. `pedigree_problems`
gives the same checks as a list, so a reader can point at the file line of the member at fault.

`Pedigree.structure(proband, genotyped=...)` says what the genotyped part of the family allows:
singleton, duo, trio or larger, and in plain words what cannot be told from it (de novo status without
parents, phase of two variants in a gene with a parent missing, ...). The rules that use it live in
`interpret/raredisease/inheritance.py`.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from genomenode.domain.samples import Sex
from genomenode.errors import PedigreeError

__all__ = [
    "Affection",
    "FamilyShape",
    "Member",
    "Pedigree",
    "Sex",
    "Structure",
    "Trio",
    "pedigree_problems",
]

# The ids PED files and Phenopackets use for "no parent recorded" (PED: 0; some tools write -9).
UNKNOWN_IDS = frozenset({"0", "-9", ""})


class Affection(enum.StrEnum):
    """Affected status as PED (2/1/0) and Phenopacket (AFFECTED/UNAFFECTED/MISSING) record it."""

    AFFECTED = "affected"
    UNAFFECTED = "unaffected"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Member:
    """One person of a family. `father`/`mother` are member ids, or None when not recorded."""

    id: str
    father: str | None = None
    mother: str | None = None
    sex: Sex = Sex.UNKNOWN
    affection: Affection = Affection.UNKNOWN

    @property
    def is_founder(self) -> bool:
        return self.father is None and self.mother is None

    @property
    def affected(self) -> bool:
        return self.affection is Affection.AFFECTED

    @property
    def unaffected(self) -> bool:
        return self.affection is Affection.UNAFFECTED

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(p for p in (self.father, self.mother) if p is not None)


@dataclass(frozen=True)
class Trio:
    """A child and its parents; a parent is None when not recorded (or, from `trios(genotyped=...)`, not genotyped)."""

    child: str
    father: str | None
    mother: str | None

    @property
    def complete(self) -> bool:
        return self.father is not None and self.mother is not None


class FamilyShape(enum.StrEnum):
    """What surrounds the proband among the genotyped members."""

    SINGLETON = "singleton"  # the proband alone
    DUO = "duo"  # the proband and one parent
    TRIO = "trio"  # the proband and both parents
    LARGER = "larger"  # anyone else genotyped too (siblings, grandparents, ...), with or without parents


@dataclass(frozen=True)
class Structure:
    """The genotyped family around one proband, and what it cannot tell (plain sentences, for the report)."""

    proband: str
    shape: FamilyShape
    father: str | None  # genotyped father, else None
    mother: str | None  # genotyped mother, else None
    affected_relatives: tuple[str, ...]  # genotyped, affected, other than the proband
    unaffected_relatives: tuple[str, ...]  # genotyped and unaffected
    unaffected_siblings: tuple[str, ...]  # genotyped, unaffected, sharing a parent with the proband
    unknown_status: tuple[str, ...]  # genotyped relatives whose affection is unknown
    ungenotyped_affected: tuple[str, ...]  # affected members with no genotypes
    cannot_tell: tuple[str, ...]

    @property
    def parents_genotyped(self) -> int:
        return (self.father is not None) + (self.mother is not None)

    def describe(self) -> str:
        extra = len(self.affected_relatives) + len(self.unaffected_relatives) + len(self.unknown_status)
        core = {0: "singleton", 1: "duo", 2: "trio"}[self.parents_genotyped]
        if self.shape is FamilyShape.LARGER:
            others = extra - self.parents_genotyped
            return f"{core} + {others} relative{'s' if others != 1 else ''}"
        return core


def pedigree_problems(family_id: str, members: Collection[Member], proband: str | None = None) -> list[tuple[str, str]]:
    """Every inconsistency of a family, as (member id, message); empty when the family is sound.

    Checked: at least one member; ids unique and not an unknown code; each recorded parent is a member
    of the family, is not the child itself, and father and mother differ; a father is not female and a
    mother not male, and nobody is both a father and a mother; nobody is their own ancestor; the
    proband, if named, is a member.
    """
    problems: list[tuple[str, str]] = []
    where = f"family {family_id}"
    if not members:
        return [("", f"{where} has no members; a family needs at least the proband")]
    by_id: dict[str, Member] = {}
    for m in members:
        if m.id in UNKNOWN_IDS or not m.id.strip():
            problems.append((m.id, f"{where}: {m.id!r} is not a usable individual id (0 and -9 mean 'unknown')"))
        elif m.id in by_id:
            problems.append((m.id, f"{where}: individual {m.id} appears twice; each person needs one line"))
        else:
            by_id[m.id] = m
    fathers: dict[str, str] = {}
    mothers: dict[str, str] = {}
    for m in by_id.values():
        for role, parent in (("father", m.father), ("mother", m.mother)):
            if parent is None:
                continue
            if parent == m.id:
                problems.append((m.id, f"{where}: {m.id} is recorded as their own {role}"))
            elif parent not in by_id:
                problems.append(
                    (
                        m.id,
                        f"{where}: {m.id}'s {role} {parent} is not a member of the family; "
                        f"add a line for {parent} or write 0 for an unknown {role}",
                    )
                )
            (fathers if role == "father" else mothers).setdefault(parent, m.id)
        if m.father is not None and m.father == m.mother:
            problems.append((m.id, f"{where}: {m.id} has {m.father} as both father and mother"))
    for parent, child in fathers.items():
        p = by_id.get(parent)
        if p is not None and p.sex is Sex.FEMALE:
            problems.append((parent, f"{where}: {parent} is the father of {child} but is recorded as female"))
        if parent in mothers:
            problems.append((parent, f"{where}: {parent} is the father of {child} and the mother of {mothers[parent]}"))
    for parent, child in mothers.items():
        p = by_id.get(parent)
        if p is not None and p.sex is Sex.MALE:
            problems.append((parent, f"{where}: {parent} is the mother of {child} but is recorded as male"))
    cycle = _find_cycle(by_id)
    if cycle:
        path = " → ".join(cycle)
        problems.append((cycle[0], f"{where}: {cycle[0]} is their own ancestor ({path}); check the parent columns"))
    if proband is not None and proband not in by_id:
        problems.append((proband, f"{where}: the proband {proband} is not a member of the family"))
    return problems


def _find_cycle(by_id: dict[str, Member]) -> list[str]:
    """A parent chain that returns to where it started (child → parent → ... → child), else []."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in by_id:
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(by_id[start].parents))]
        state[start] = 1
        while stack:
            node, parents = stack[-1]
            nxt = next(parents, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif nxt in by_id:
                if state.get(nxt) == 1:
                    path = [n for n, _ in stack]
                    return [*path[path.index(nxt) :], nxt]
                if not state.get(nxt):
                    state[nxt] = 1
                    stack.append((nxt, iter(by_id[nxt].parents)))
    return []


@dataclass(frozen=True)
class Pedigree:
    """One family: its members in file order and, when known, the proband (index case)."""

    family_id: str
    members: tuple[Member, ...]
    proband: str | None = None
    _by_id: dict[str, Member] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = pedigree_problems(self.family_id, self.members, self.proband)
        if problems:
            raise PedigreeError(problems[0][1])
        object.__setattr__(self, "_by_id", {m.id: m for m in self.members})

    def __len__(self) -> int:
        return len(self.members)

    def __contains__(self, member_id: object) -> bool:
        return member_id in self._by_id

    def __iter__(self) -> Iterator[Member]:
        return iter(self.members)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.members)

    def member(self, member_id: str) -> Member:
        try:
            return self._by_id[member_id]
        except KeyError:
            raise PedigreeError(
                f"family {self.family_id} has no member {member_id}; its members are {', '.join(self.ids)}"
            ) from None

    def with_proband(self, member_id: str) -> Pedigree:
        return Pedigree(self.family_id, self.members, member_id)

    def parents_of(self, member_id: str) -> tuple[Member | None, Member | None]:
        """(father, mother) as members; None where not recorded."""
        m = self.member(member_id)
        return (
            self._by_id[m.father] if m.father is not None else None,
            self._by_id[m.mother] if m.mother is not None else None,
        )

    @cached_property
    def _children(self) -> dict[str, tuple[Member, ...]]:
        out: dict[str, list[Member]] = {m.id: [] for m in self.members}
        for m in self.members:
            for p in m.parents:
                out[p].append(m)
        return {k: tuple(v) for k, v in out.items()}

    def children_of(self, member_id: str) -> tuple[Member, ...]:
        self.member(member_id)
        return self._children[member_id]

    def siblings_of(self, member_id: str) -> tuple[Member, ...]:
        """Full and half siblings: members other than `member_id` sharing a recorded parent with them."""
        m = self.member(member_id)
        return tuple(s for s in self.members if s.id != m.id and set(s.parents) & set(m.parents))

    def affected(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.affected)

    def unaffected(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.unaffected)

    def founders(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.is_founder)

    def trios(self, *, genotyped: Collection[str] | None = None, complete: bool = True) -> tuple[Trio, ...]:
        """Children with their parents, in member order.

        With `genotyped`, only genotyped children count and a parent without genotypes becomes None.
        `complete=True` keeps only children with both parents; False also keeps duos (one parent).
        """
        have = set(self.ids) if genotyped is None else set(genotyped)
        out = []
        for m in self.members:
            if m.id not in have:
                continue
            father = m.father if m.father in have else None
            mother = m.mother if m.mother in have else None
            if (father is not None and mother is not None) or (not complete and (father or mother)):
                out.append(Trio(m.id, father, mother))
        return tuple(out)

    def default_proband(self, genotyped: Collection[str] | None = None) -> str:
        """The named proband, else the only (genotyped) affected member; PedigreeError when that is ambiguous."""
        if self.proband is not None:
            return self.proband
        candidates = [m.id for m in self.affected() if genotyped is None or m.id in genotyped]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise PedigreeError(
                f"family {self.family_id}: no{' genotyped' if genotyped is not None else ''} affected member "
                "to take as proband; mark the patient affected (PED phenotype 2) or name the proband"
            )
        raise PedigreeError(
            f"family {self.family_id}: {len(candidates)} affected members ({', '.join(candidates)}); name the proband"
        )

    def structure(self, proband: str, *, genotyped: Collection[str] | None = None) -> Structure:
        """What the genotyped members around `proband` allow; everyone counts as genotyped when `genotyped` is None."""
        have = set(self.ids) if genotyped is None else {i for i in genotyped if i in self}
        p = self.member(proband)
        father = p.father if p.father in have else None
        mother = p.mother if p.mother in have else None
        others = [m for m in self.members if m.id in have and m.id != proband]
        affected = tuple(m.id for m in others if m.affected)
        unaffected = tuple(m.id for m in others if m.unaffected)
        unknown = tuple(m.id for m in others if m.affection is Affection.UNKNOWN)
        siblings = tuple(s.id for s in self.siblings_of(proband) if s.id in have and s.unaffected)
        ungenotyped_affected = tuple(m.id for m in self.affected() if m.id not in have)
        n_parents = (father is not None) + (mother is not None)
        if len(others) > n_parents:
            shape = FamilyShape.LARGER
        else:
            shape = (FamilyShape.SINGLETON, FamilyShape.DUO, FamilyShape.TRIO)[n_parents]
        notes: list[str] = []
        if n_parents == 0:
            notes.append(
                f"no parent of {proband} is genotyped: whether a variant is de novo or inherited, and from "
                "whom, cannot be told; two variants in one gene cannot be phased"
            )
        elif n_parents == 1:
            have_role, missing_role = ("father", "mother") if father is not None else ("mother", "father")
            notes.append(
                f"only the {have_role} of {proband} is genotyped: a variant the {have_role} lacks may come from "
                f"the {missing_role} or be de novo; two variants in one gene cannot be phased"
            )
            if mother is None:
                notes.append(
                    "without the mother, X-linked transmission to a son and mitochondrial transmission are unchecked"
                )
        if p.sex is Sex.UNKNOWN:
            notes.append(
                f"the sex of {proband} is unknown: outside the PARs on chrX, hemizygous and heterozygous look alike"
            )
        for role, parent_id, have_it in (("father", p.father, father), ("mother", p.mother, mother)):
            if parent_id is not None and have_it is not None and self._by_id[parent_id].affection is Affection.UNKNOWN:
                notes.append(
                    f"the {role} {parent_id}'s affection is unknown: a variant they carry neither supports nor "
                    "excludes dominant inheritance"
                )
        if unknown:
            notes.append(
                f"affection unknown for {', '.join(unknown)}: their genotypes neither support nor exclude a mode"
            )
        if ungenotyped_affected:
            notes.append(
                f"affected but not genotyped: {', '.join(ungenotyped_affected)}; whether they share a variant "
                "cannot be told"
            )
        return Structure(
            proband=proband,
            shape=shape,
            father=father,
            mother=mother,
            affected_relatives=affected,
            unaffected_relatives=unaffected,
            unaffected_siblings=siblings,
            unknown_status=unknown,
            ungenotyped_affected=ungenotyped_affected,
            cannot_tell=tuple(notes),
        )
