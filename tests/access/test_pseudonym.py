"""Raw subject identifiers never reach the store; pseudonyms are keyed, stable and per context."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from genomenode.access.pseudonym import load_or_create_key, pseudonymise
from genomenode.errors import ConfigurationError
from genomenode.pipeline.ingest import IngestRequest, ingest
from genomenode.settings import Settings
from tests.conftest import PLATINUM, require_testdata


def test_key__created_once_readable_only_by_the_node(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "pseudonym.key"
    key = load_or_create_key(path)
    assert load_or_create_key(path) == key and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_key__readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pseudonym.key"
    load_or_create_key(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_key(path)


def test_pseudonym__keyed_stable_and_different_per_context() -> None:
    k1, k2 = b"1" * 32, b"2" * 32
    assert pseudonymise(k1, "19850412-1234") == pseudonymise(k1, "198504121234 ")
    assert pseudonymise(k1, "19850412-1234") != pseudonymise(k2, "19850412-1234")
    assert pseudonymise(k1, "19850412-1234", context="project-7") != pseudonymise(k1, "19850412-1234")


def test_ingest__raw_subject_ids_appear_nowhere_in_the_data_dir(tmp_path: Path) -> None:
    require_testdata()
    settings = Settings(data_dir=tmp_path / "node", secrets_dir=tmp_path / "secrets")
    raw = "19121212-1212"
    sheet = tmp_path / "s.tsv"
    sheet.write_text(f"sample_id\tsubject_id\tsex\nNA12878\t{raw}\tfemale\n")
    ingest(
        settings,
        IngestRequest(
            files=[PLATINUM / "1K.end.platinum-genomes-vcf-NA12878_S1.vcf.gz"],
            dataset="ceph",
            centre="utah",
            sample_sheet=sheet,
        ),
    )
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert raw.encode() not in data and raw.replace("-", "").encode() not in data, path
    assert (tmp_path / "secrets" / "pseudonym.key").exists()
