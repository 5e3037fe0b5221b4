"""PharmCAT's reference folder and pypgx's CPIC tables: found, read, and refused clearly when not."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
from pathlib import Path

import pytest

from genomenode.errors import ConfigurationError
from genomenode.store import pgx_reference
from genomenode.store.pgx_reference import default_folder, load_recommendations, load_reference

needs_reference = pytest.mark.skipif(
    not default_folder().is_dir(), reason="PharmCAT reference data not beside the checkout"
)


@needs_reference
def test_load_reference__reads_every_definition_phenotype_map_and_exemption() -> None:
    ref = load_reference()
    assert {"CYP2C19", "DPYD", "UGT1A1", "NAT2"} <= set(ref.definitions)
    assert "CYP2C19" in ref.phenotypes and "NAT2" in ref.exemptions
    assert ref.positions_vcf.exists() and ref.version != "unknown" and ref.messages


def test_load_reference__an_absent_folder_names_the_variable_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GENOMENODE_PGX_REFERENCE"):
        load_reference(tmp_path / "nowhere")


@needs_reference
def test_load_reference__a_damaged_file_is_named(tmp_path: Path) -> None:
    copy = tmp_path / "pgx"
    shutil.copytree(default_folder(), copy)
    (copy / "allele_definitions" / "TPMT_translation.json").write_text("{not json")
    with pytest.raises(ConfigurationError, match=r"TPMT_translation\.json"):
        load_reference(copy)


def test_default_folder__the_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GENOMENODE_PGX_REFERENCE", str(tmp_path))
    assert default_folder() == tmp_path


def test_load_recommendations__reads_cpics_table_without_importing_pypgx() -> None:
    import sys

    rows = load_recommendations()
    assert any(r["Drug"] == "clopidogrel" and r["Gene1"] == "CYP2C19" for r in rows)
    assert "pypgx" not in sys.modules


def test_load_recommendations__a_missing_package_says_to_run_make_install(monkeypatch: pytest.MonkeyPatch) -> None:
    def absent(name: str) -> importlib.metadata.Distribution:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(pgx_reference.importlib.metadata, "distribution", absent)
    with pytest.raises(ConfigurationError, match="make install"):
        pgx_reference._pypgx_file(pgx_reference.RECOMMENDATIONS)


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "pgx"
    shutil.copytree(default_folder(), copy)
    return copy


@needs_reference
def test_load_reference__a_damaged_phenotype_map_is_named(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    (copy / "phenotypes" / "CYP2C19.json").write_text('{"gene": "CYP2C19", "diplotypes": ')
    with pytest.raises(ConfigurationError, match=r"CYP2C19\.json.*GENOMENODE_PGX_REFERENCE"):
        load_reference(copy)


@needs_reference
def test_load_reference__a_phenotype_file_that_is_not_a_map_is_refused(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    (copy / "phenotypes" / "TPMT.json").write_text('["not", "a", "map"]')
    with pytest.raises(ConfigurationError, match=r"TPMT\.json: not a PharmCAT phenotype file"):
        load_reference(copy)


@needs_reference
@pytest.mark.parametrize("part", ["phenotypes", "positions"])
def test_load_reference__a_copy_missing_its_phenotypes_or_positions_is_refused(tmp_path: Path, part: str) -> None:
    copy = _copy(tmp_path)
    shutil.rmtree(copy / part)
    with pytest.raises(ConfigurationError, match=part):
        load_reference(copy)


@needs_reference
def test_load_reference__the_version_is_the_datas_own(tmp_path: Path) -> None:
    ref = load_reference()
    assert ref.version == max(str(d["version"]) for d in ref.definitions.values())
    assert all(str(d.get("version", ref.version)) <= ref.version for d in ref.phenotypes.values())


@needs_reference
def test_load_reference__is_read_once_per_folder_and_follows_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert load_reference() is load_reference() is load_reference(default_folder())
    copy = _copy(tmp_path)
    monkeypatch.setenv("GENOMENODE_PGX_REFERENCE", str(copy))
    assert load_reference().folder == copy and load_reference() is load_reference(copy)


def test_load_recommendations__a_missing_package_fails_every_loader_with_make_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def absent(name: str) -> importlib.metadata.Distribution:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(pgx_reference.importlib.metadata, "distribution", absent)
    for loader in (pgx_reference.load_recommendations, pgx_reference.load_guidelines):
        loader.cache_clear()
        try:
            with pytest.raises(ConfigurationError, match="make install"):
                loader()
        finally:
            loader.cache_clear()


def test_load_recommendations__a_table_without_its_columns_is_refused(tmp_path: Path) -> None:
    changed = tmp_path / "recommendation-table.csv"
    changed.write_text("Drug,Gene,Phenotype,Text\nclopidogrel,CYP2C19,Poor Metabolizer,x\n")
    with pytest.raises(ConfigurationError, match=r"Gene1.*make install"):
        pgx_reference._rows(changed, pgx_reference.RECOMMENDATION_COLUMNS)


def test_load_guidelines__gives_each_cpic_gene_drug_pair_its_guideline() -> None:
    rows = pgx_reference.load_guidelines()
    clopidogrel = next(r for r in rows if (r["Gene"], r["Drug"]) == ("CYP2C19", "clopidogrel"))
    assert str(clopidogrel["Guideline"]).startswith("https://") and clopidogrel["CPICLevel"]


# --- the dependency: pypgx pinned, installed without its dependencies, kept out of the lock ------

REPO = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return {name.lower(): version for name, _, version in (line.partition("==") for line in lines if line)}


def test_dependency__pypgx_is_pinned_in_requirements_data_at_the_installed_version() -> None:
    pinned = _pins(REPO / "requirements-data.txt")
    assert pinned["pypgx"] == pgx_reference.pypgx_version()
    assert "CPIC" in pgx_reference.CPIC_TABLES_AS_OF  # the dates there are pypgx 0.27.0's: recheck on a bump
    assert pinned["pypgx"] == "0.27.0"


def test_dependency__the_lock_holds_neither_pypgx_nor_the_dependencies_it_is_installed_without() -> None:
    requires = importlib.metadata.requires("pypgx") or []
    left_out = {"pypgx", *(re.split(r"[\s;<>=!~\[(]", r)[0].lower() for r in requires)}
    assert {"fuc", "scikit-learn"} <= left_out
    assert not left_out & set(_pins(REPO / "requirements.lock"))


def test_dependency__make_install_adds_data_packages_with_no_deps_and_the_lock_recipe_leaves_them_out() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "--no-deps -r requirements-data.txt" in makefile
    assert 'grep -vE "^(pip|genomenode|pypgx)=="' in makefile  # the documented way to refresh the lock
    assert "requirements-data.txt" in makefile.split("$(STAMP):")[1].splitlines()[0]  # a new pin reinstalls
