"""PharmCAT's reference folder and pypgx's CPIC tables: found, read, and refused clearly when not."""

from __future__ import annotations

import importlib.metadata
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
