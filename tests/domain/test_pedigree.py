"""Pedigrees: a family is checked when it is built, and says what its genotyped part can tell."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genomenode.domain.pedigree import (
    Affection,
    FamilyShape,
    Member,
    Pedigree,
    Sex,
    Trio,
    pedigree_problems,
)
from genomenode.errors import PedigreeError

M, F, U = Sex.MALE, Sex.FEMALE, Sex.UNKNOWN
AFF, UNAFF, UNK = Affection.AFFECTED, Affection.UNAFFECTED, Affection.UNKNOWN


def _quad() -> Pedigree:
    return Pedigree(
        "FAM1",
        (
            Member("dad", sex=M, affection=UNAFF),
            Member("mum", sex=F, affection=UNAFF),
            Member("kid", "dad", "mum", M, AFF),
            Member("sib", "dad", "mum", F, UNAFF),
        ),
    )


def test_pedigree__helpers_find_parents_children_siblings_and_trios() -> None:
    ped = _quad()
    dad, mum = ped.parents_of("kid")
    assert (dad and dad.id, mum and mum.id) == ("dad", "mum")
    assert ped.parents_of("dad") == (None, None)
    assert [c.id for c in ped.children_of("mum")] == ["kid", "sib"]
    assert [s.id for s in ped.siblings_of("kid")] == ["sib"]
    assert [m.id for m in ped.affected()] == ["kid"]
    assert [m.id for m in ped.unaffected()] == ["dad", "mum", "sib"]
    assert [m.id for m in ped.founders()] == ["dad", "mum"]
    assert ped.trios() == (Trio("kid", "dad", "mum"), Trio("sib", "dad", "mum"))
    assert ped.trios(genotyped={"kid", "mum"}) == ()
    assert ped.trios(genotyped={"kid", "mum"}, complete=False) == (Trio("kid", None, "mum"),)
    assert ped.default_proband() == "kid"
    assert "kid" in ped and "nobody" not in ped and len(ped) == 4


@pytest.mark.parametrize(
    ("members", "named"),
    [
        ((Member("a"), Member("a")), "appears twice"),
        ((Member("0"),), "not a usable individual id"),
        ((Member("kid", "dad", None),), "father dad is not a member"),
        ((Member("kid", "kid", None),), "their own father"),
        ((Member("p"), Member("kid", "p", "p")), "both father and mother"),
        ((Member("dad", sex=F), Member("kid", "dad", None)), "dad is the father of kid but is recorded as female"),
        ((Member("mum", sex=M), Member("kid", None, "mum")), "mum is the mother of kid but is recorded as male"),
        (
            (Member("x"), Member("y"), Member("a", "x", "y"), Member("b", "y", "x")),
            "is the father of a and the mother of b",
        ),
        ((Member("a", "b", None, M), Member("b", "a", None, M)), "their own ancestor"),
        ((), "has no members"),
    ],
)
def test_pedigree__inconsistent_family_raises_naming_the_member(members: tuple[Member, ...], named: str) -> None:
    with pytest.raises(PedigreeError, match=named):
        Pedigree("FAM", members)


def test_pedigree__cycle_message_shows_the_loop() -> None:
    members = (Member("g", "c", None, M), Member("p", "g", None, M), Member("c", "p", None, M))
    [(who, message)] = pedigree_problems("F", members)
    assert who in {"g", "p", "c"} and "→" in message


def test_pedigree__proband_must_be_a_member_and_ambiguous_proband_is_refused() -> None:
    with pytest.raises(PedigreeError, match="proband zed is not a member"):
        Pedigree("F", (Member("a"),), proband="zed")
    two = Pedigree("F", (Member("a", affection=AFF), Member("b", affection=AFF)))
    with pytest.raises(PedigreeError, match="2 affected members"):
        two.default_proband()
    assert two.default_proband(genotyped={"b"}) == "b"
    assert two.with_proband("a").default_proband() == "a"
    with pytest.raises(PedigreeError, match="no affected member"):
        Pedigree("F", (Member("a"),)).default_proband()


def test_pedigree__unknown_sex_parent_is_allowed() -> None:
    ped = Pedigree("F", (Member("p1"), Member("p2"), Member("kid", "p1", "p2")))
    assert ped.trios() == (Trio("kid", "p1", "p2"),)


@pytest.mark.parametrize(
    ("genotyped", "shape", "described", "says"),
    [
        ({"kid"}, FamilyShape.SINGLETON, "singleton", "no parent of kid is genotyped"),
        ({"kid", "mum"}, FamilyShape.DUO, "duo", "only the mother of kid is genotyped"),
        ({"kid", "dad"}, FamilyShape.DUO, "duo", "X-linked transmission to a son and mitochondrial"),
        ({"kid", "dad", "mum"}, FamilyShape.TRIO, "trio", None),
        ({"kid", "dad", "mum", "sib"}, FamilyShape.LARGER, "trio + 1 relative", None),
        ({"kid", "sib"}, FamilyShape.LARGER, "singleton + 1 relative", "no parent of kid is genotyped"),
    ],
)
def test_structure__shape_and_what_cannot_be_told(
    genotyped: set[str], shape: FamilyShape, described: str, says: str | None
) -> None:
    s = _quad().structure("kid", genotyped=genotyped)
    assert s.shape is shape and s.describe() == described
    if says is None:
        assert s.cannot_tell == ()
    else:
        assert any(says in note for note in s.cannot_tell)
    assert s.unaffected_siblings == (("sib",) if "sib" in genotyped else ())


def test_structure__unknown_sex_unknown_affection_and_ungenotyped_affected_are_said() -> None:
    ped = Pedigree(
        "F",
        (
            Member("dad", sex=M, affection=UNK),
            Member("mum", sex=F, affection=UNAFF),
            Member("kid", "dad", "mum", U, AFF),
            Member("cousin", affection=AFF),
        ),
    )
    s = ped.structure("kid", genotyped={"kid", "dad", "mum"})
    text = " ".join(s.cannot_tell)
    assert "sex of kid is unknown" in text
    assert "father dad's affection is unknown" in text
    assert "affection unknown for dad" in text
    assert "affected but not genotyped: cousin" in text
    assert s.ungenotyped_affected == ("cousin",) and s.unknown_status == ("dad",)


@st.composite
def _families(draw: st.DrawFn) -> tuple[Member, ...]:
    """Random acyclic families: each member's parents come from the members listed before it."""
    n = draw(st.integers(1, 9))
    members: list[Member] = []
    for i in range(n):
        males = [m.id for m in members if m.sex is M]
        females = [m.id for m in members if m.sex is F]
        father = draw(st.sampled_from([None, *males])) if males else None
        mother = draw(st.sampled_from([None, *females])) if females else None
        sex = draw(st.sampled_from([M, F, U]))
        members.append(Member(f"i{i}", father, mother, sex, draw(st.sampled_from([AFF, UNAFF, UNK]))))
    order = draw(st.permutations(members))
    return tuple(order)


@given(_families())
def test_pedigree__any_acyclic_family_in_any_order_is_accepted(members: tuple[Member, ...]) -> None:
    ped = Pedigree("F", members)
    for trio in ped.trios():
        child = ped.member(trio.child)
        assert (child.father, child.mother) == (trio.father, trio.mother)
    for m in ped:
        assert all(m.id in {c.father, c.mother} for c in ped.children_of(m.id))


@given(_families(), st.data())
def test_pedigree__making_someone_their_descendant_is_a_cycle(members: tuple[Member, ...], data: st.DataObject) -> None:
    ped = Pedigree("F", members)
    with_children = [m for m in ped if ped.children_of(m.id)]
    if not with_children:
        return
    parent = data.draw(st.sampled_from(with_children))
    child = ped.children_of(parent.id)[0]
    rewired = tuple(
        Member(m.id, child.id if child.sex is not F else None, child.id if child.sex is F else None, m.sex, m.affection)
        if m.id == parent.id
        else m
        for m in members
    )
    assert any("own ancestor" in message for _, message in pedigree_problems("F", rewired))
