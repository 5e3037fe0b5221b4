"""What a killed ingest or erasure leaves in the encrypted archive is finished or undone by the next writer."""

from __future__ import annotations

from pathlib import Path

from genomenode.pipeline.archive_sweep import ERASING, sweep_archive


def _write(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_sweep__an_archive_file_no_catalog_row_names_is_removed(tmp_path: Path) -> None:
    kept = _write(tmp_path / "00000001-aa.vcf.gz.c4gh", 100)
    orphan = _write(tmp_path / "00000002-bb.vcf.gz.c4gh", 80)
    acted = sweep_archive(tmp_path, {"00000001-aa.vcf.gz.c4gh": 100})
    assert acted == ["00000002-bb.vcf.gz.c4gh"]
    assert kept.exists() and not orphan.exists()


def test_sweep__an_erased_copy_the_catalog_committed_replaces_the_old_file(tmp_path: Path) -> None:
    final = _write(tmp_path / "00000001-aa.vcf.gz.c4gh", 100)
    _write(tmp_path / ("00000001-aa.vcf.gz.c4gh" + ERASING), 70)
    # the kill fell after the catalog commit: it records the erased copy's size
    sweep_archive(tmp_path, {"00000001-aa.vcf.gz.c4gh": 70})
    assert final.stat().st_size == 70
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000001-aa.vcf.gz.c4gh"]


def test_sweep__an_erased_copy_the_catalog_never_committed_is_dropped(tmp_path: Path) -> None:
    final = _write(tmp_path / "00000001-aa.vcf.gz.c4gh", 100)
    _write(tmp_path / ("00000001-aa.vcf.gz.c4gh" + ERASING), 70)
    sweep_archive(tmp_path, {"00000001-aa.vcf.gz.c4gh": 100})
    assert final.stat().st_size == 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000001-aa.vcf.gz.c4gh"]


def test_sweep__a_consistent_or_missing_archive_is_left_alone(tmp_path: Path) -> None:
    assert sweep_archive(tmp_path / "absent", {}) == []
    _write(tmp_path / "sub" / "00000003-cc.bcf.c4gh", 10)
    assert sweep_archive(tmp_path, {"sub/00000003-cc.bcf.c4gh": 10}) == []
    assert (tmp_path / "sub" / "00000003-cc.bcf.c4gh").exists()
