"""Random samples built from named alleles: phased pairs are recovered; unphased calls (with
random missing positions) equal a plain enumeration of PharmCAT's method."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from genomenode.interpret.pgx.definitions import GeneDefinition, sequence_name_key
from genomenode.interpret.pgx.matcher import match_gene
from tests.interpret.pgx.builders import calls_from, sequence
from tests.interpret.pgx.oracle import top_diplotypes

GENES = ["CYP2B6", "CYP2C19", "CYP2C9", "CYP3A4", "CYP3A5", "CYP4F2", "NUDT15", "SLCO1B1", "TPMT", "UGT1A1"]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def samples(draw: st.DrawFn, definitions: dict[str, GeneDefinition]) -> tuple[GeneDefinition, str, str, set[int]]:
    definition = definitions[draw(st.sampled_from(GENES))]
    names = st.sampled_from(definition.names)
    drop = draw(st.sets(st.integers(0, len(definition.positions) - 1), max_size=3))
    return definition, draw(names), draw(names), drop


@SETTINGS
@given(data=st.data())
def test_phased_pair_of_named_alleles__recovered(definitions: dict[str, GeneDefinition], data: st.DataObject) -> None:
    definition, a, b, _ = data.draw(samples(definitions))
    result = match_gene(
        definition, calls_from(definition, sequence(definition, a), sequence(definition, b), phased=True)
    )
    expected = "/".join(sorted([a, b], key=sequence_name_key))
    everything = {d.name: d.score for d in (*result.diplotypes, *result.alternatives)}
    # the pair itself is possible; a call other than it has the same sequences and a higher score
    assert expected in everything
    assert result.diplotypes[0].score >= everything[expected]
    if expected not in {d.name for d in result.diplotypes}:
        assert result.diplotypes[0].score > everything[expected]


@SETTINGS
@given(data=st.data())
def test_unphased_calls_with_missing_positions__equal_the_enumeration(
    definitions: dict[str, GeneDefinition], data: st.DataObject
) -> None:
    definition, a, b, drop = data.draw(samples(definitions))
    calls = calls_from(definition, sequence(definition, a), sequence(definition, b), drop=drop)
    assume(sum(c.alleles[0] != c.alleles[1] for c in calls.values()) <= 8)
    result = match_gene(definition, calls)
    assert {d.name for d in result.diplotypes} == top_diplotypes(definition, calls)
    assert set(result.missing_positions) == {definition.positions[i].label for i in drop}
    scores = [d.score for d in (*result.diplotypes, *result.alternatives)]
    assert scores == sorted(scores, reverse=True)
