"""Clinicians' notes on a case's candidates: append-only, with author and time, under the case's own
visibility, audited before they are kept, and kept (without genotypes) when a member is erased."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from genomenode.access import policy
from genomenode.access.gate import AccessControl
from genomenode.cases.notes import add_note, notes
from genomenode.cases.service import case_report
from genomenode.catalog import case_notes
from genomenode.catalog.case_notes import current_classes
from genomenode.errors import AuditUnavailableError, InputError, NotFoundError
from genomenode.pipeline.erasure import erase
from tests.secure_node import SecureNode, add_analysed_cases, build_secure_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> SecureNode:
    node = build_secure_node(tmp_path_factory.mktemp("notes") / "node", individuals=40, seed=11)
    add_analysed_cases(node, tmp_path_factory.mktemp("cases"))
    return node


@pytest.fixture
def gate(node: SecureNode) -> Iterator[AccessControl]:
    gate = AccessControl(node.settings)
    yield gate
    gate.close()


def _caller(gate: AccessControl, node: SecureNode, user: str) -> policy.Caller:
    return gate.caller_for_token(node.tokens[user])


def _candidates(gate: AccessControl, node: SecureNode, case: str) -> list[dict[str, Any]]:
    import json

    report = json.loads(case_report(gate, _caller(gate, node, "steward"), case))
    assert report["candidates"], f"{case} needs candidates for these tests"
    return list(report["candidates"])


def _key(c: dict[str, Any]) -> str:
    return f"{c['chrom']}-{c['pos']}-{c['ref']}-{c['alt']}"


def test_notes__a_note_is_kept_with_author_time_and_class(gate: AccessControl, node: SecureNode) -> None:
    # GIVEN the Stockholm clinician and the first candidate of their region's case
    clinician = _caller(gate, node, "clinician-stockholm")
    first = _candidates(gate, node, "family-stockholm")[0]
    # WHEN they note it twice, classifying it differently the second time (the class given loosely)
    a = add_note(gate, clinician, "family-stockholm", variant=_key(first), text="Seen in the mother too?")
    b = add_note(
        gate,
        clinician,
        "family-stockholm",
        variant=_key(first),
        text="Segregates.\r\nLP.",
        classification="Likely pathogenic",
    )
    # THEN both are kept, oldest first, with author, time and the candidate's gene
    kept = [n for n in notes(gate, clinician, "family-stockholm") if n.id in (a.id, b.id)]
    assert [n.text for n in kept] == ["Seen in the mother too?", "Segregates.\nLP."]
    assert {n.author for n in kept} == {clinician.actor} and all(n.gene == first["gene"] for n in kept)
    assert kept[0].created_at <= kept[1].created_at and kept[1].created_at.tzinfo is not None
    assert current_classes(kept)[_key(first)].classification == "likely_pathogenic"
    # AND the steward sees them too; each write left a case.note audit entry
    assert {n.id for n in notes(gate, _caller(gate, node, "steward"), "family-stockholm")} >= {a.id, b.id}
    entries = [e for e in gate.audit_log.export(actions=["case.note"]) if e["target"] == "family-stockholm"]
    assert entries[-1]["details"]["classification"] == "likely_pathogenic"
    assert entries[-1]["actor"] == clinician.actor


def test_notes__a_new_class_supersedes_the_old_one(gate: AccessControl, node: SecureNode) -> None:
    steward = _caller(gate, node, "steward")
    variant = _key(_candidates(gate, node, "family-skane")[0])
    add_note(gate, steward, "family-skane", variant=variant, text="first look", classification="uncertain_significance")
    add_note(gate, steward, "family-skane", variant=variant, text="no class: only a comment")
    add_note(gate, steward, "family-skane", variant=variant, text="benign after review", classification="benign")
    kept = notes(gate, steward, "family-skane")
    assert current_classes(kept)[variant].text == "benign after review"
    assert [n.classification for n in kept if n.variant == variant][-3:] == ["uncertain_significance", None, "benign"]


def test_notes__another_regions_clinician_is_told_the_case_does_not_exist(
    gate: AccessControl, node: SecureNode
) -> None:
    other = _caller(gate, node, "clinician-skane")
    variant = _key(_candidates(gate, node, "family-stockholm")[0])
    with pytest.raises(NotFoundError) as hidden:
        notes(gate, other, "family-stockholm")
    with pytest.raises(NotFoundError) as missing:
        notes(gate, other, "case-nowhere")
    assert str(hidden.value).replace("family-stockholm", "X") == str(missing.value).replace("case-nowhere", "X")
    with pytest.raises(NotFoundError):
        add_note(gate, other, "family-stockholm", variant=variant, text="not mine")
    for user in ("researcher", "registered"):
        with pytest.raises(NotFoundError):
            notes(gate, _caller(gate, node, user), "family-stockholm")


@pytest.mark.parametrize(
    ("variant", "text", "classification", "message"),
    [
        ("chr1-1-A-T", "x", None, "is not a candidate of case family-stockholm"),
        (None, "   ", None, "the note is empty"),
        (None, "x" * 4001, None, "keep it to 4000"),
        (None, "bell\x07", None, "control characters"),
        (None, "x", "pathogenic-ish", "give one of pathogenic, likely_pathogenic"),
    ],
)
def test_notes__bad_input_is_refused_and_nothing_kept(
    gate: AccessControl, node: SecureNode, variant: str | None, text: str, classification: str | None, message: str
) -> None:
    clinician = _caller(gate, node, "clinician-stockholm")
    before = len(notes(gate, clinician, "family-stockholm"))
    chosen = variant or _key(_candidates(gate, node, "family-stockholm")[0])
    with pytest.raises(InputError, match=message):
        add_note(gate, clinician, "family-stockholm", variant=chosen, text=text, classification=classification)
    assert len(notes(gate, clinician, "family-stockholm")) == before


def test_notes__no_audit_no_note(gate: AccessControl, node: SecureNode, monkeypatch: pytest.MonkeyPatch) -> None:
    clinician = _caller(gate, node, "clinician-stockholm")
    variant = _key(_candidates(gate, node, "family-stockholm")[0])
    before = len(notes(gate, clinician, "family-stockholm"))

    def unavailable(*args: object, **kwargs: object) -> None:
        raise AuditUnavailableError("audit log offline (test)")

    monkeypatch.setattr(gate, "record", unavailable)
    with pytest.raises(AuditUnavailableError):
        add_note(gate, clinician, "family-stockholm", variant=variant, text="should not be kept")
    monkeypatch.undo()
    assert len(notes(gate, clinician, "family-stockholm")) == before


def test_notes__erasure_keeps_the_notes_and_drops_the_analysis(gate: AccessControl, node: SecureNode) -> None:
    # GIVEN a classified note on the Skåne family's top candidate
    steward, clinician = _caller(gate, node, "steward"), _caller(gate, node, "clinician-skane")
    variant = _key(_candidates(gate, node, "family-skane")[0])
    note = add_note(
        gate, clinician, "family-skane", variant=variant, text="carrier parents", classification="pathogenic"
    )
    father = next(p for p in gate.individuals(steward) if any(s[2] == "RD-SKA-father" for s in p.row.samples))
    # WHEN the father is erased
    erase(gate, steward, father.row.pseudonym)
    # THEN the note is still there for the region's clinician (it holds no genotype), while the
    # analysis, which showed his genotypes, is gone: no new note until the case is analysed again
    assert note.id in {n.id for n in notes(gate, clinician, "family-skane")}
    with gate.Session() as s:
        assert case_notes.list_notes(s, "family-skane")[-1].text == "carrier parents"
    with pytest.raises(InputError, match="has no analysis yet"):
        add_note(gate, clinician, "family-skane", variant=variant, text="after erasure")
