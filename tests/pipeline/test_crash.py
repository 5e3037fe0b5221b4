"""A kill -9 at any point of an ingest loses nothing and leaves no half state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genomenode.settings import Settings
from tests.conftest import G1K_BATCHES, require_testdata, store_snapshot
from tests.pipeline.helpers import national_counts

CLI = [sys.executable, "-m", "genomenode.cli"]


def _ingest(data_dir: Path, path: Path, centre: str, *, pause_at: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENOMENODE_TEST")}
    if pause_at:
        env["GENOMENODE_TEST_PAUSE_AT"] = pause_at
        env["GENOMENODE_TEST_PAUSE_SECONDS"] = "60"
    return subprocess.Popen(
        [*CLI, "--data-dir", str(data_dir), "ingest", str(path), "--dataset", "1000g", "--centre", centre],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str]:
    """Wait for the process and close its pipe (an open pipe is a ResourceWarning, and warnings fail tests)."""
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def _wait_for_pause(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("paused at"), line


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A node holding the first centre's file, ingested cleanly."""
    require_testdata()
    data_dir = tmp_path_factory.mktemp("crash") / "node"
    code, out = _finish(_ingest(data_dir, G1K_BATCHES[0], "centre-1"))
    assert code == 0, out
    return data_dir


@pytest.mark.parametrize(("stage", "batch"), [("after_parts", 1), ("before_commit", 2)])
def test_kill_9__before_the_commit_leaves_the_previous_state(stage: str, batch: int, loaded: Path) -> None:
    before_counts = national_counts(Settings(data_dir=loaded))
    before_files = store_snapshot(loaded)
    # WHEN an ingest of the second centre is killed with SIGKILL at `stage`
    proc = _ingest(loaded, G1K_BATCHES[batch], f"centre-{batch + 1}", pause_at=stage)
    try:
        _wait_for_pause(proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        _finish(proc)
    # THEN readers see exactly the previous national counts (the orphan parts are invisible)
    assert national_counts(Settings(data_dir=loaded)) == before_counts
    # AND the next ingest sweeps the orphans and commits whole
    code, out = _finish(_ingest(loaded, G1K_BATCHES[batch], f"centre-{batch + 1}"))
    assert code == 0, out
    after = national_counts(Settings(data_dir=loaded))
    assert after != before_counts
    leftovers = [p for p in store_snapshot(loaded) if p not in before_files and p.endswith(".tmp")]
    assert not leftovers
    # reset the node for the next parameter: replace nothing, just check no orphan parquet stays
    assert all((loaded / "store" / p).exists() for p in _live_paths(loaded))
    # AND the encrypted archive holds exactly the files the catalog names: the killed run's copy is gone
    assert _archive_on_disk(loaded) == _archived_in_catalog(loaded)


def _live_paths(data_dir: Path) -> list[str]:
    from genomenode.catalog import repository as repo
    from genomenode.catalog.database import catalog_url, open_catalog, session_factory

    engine = open_catalog(catalog_url(data_dir, None))
    try:
        with session_factory(engine)() as s:
            return [
                f.path
                for t in ("variants", "calls", "site_counts", "coverage", "variant_stats")
                for f in repo.live_store_files(s, table_name=t)
            ]
    finally:
        engine.dispose()


def _archive_on_disk(data_dir: Path) -> set[str]:
    root = Settings(data_dir=data_dir).archive_root
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _archived_in_catalog(data_dir: Path) -> set[str]:
    from genomenode.catalog import sharing
    from genomenode.catalog.database import catalog_url, open_catalog, session_factory

    engine = open_catalog(catalog_url(data_dir, None))
    try:
        with session_factory(engine)() as s:
            return set(sharing.archived_sizes(s))
    finally:
        engine.dispose()


def test_kill_9__at_random_moments_never_leaves_half_an_ingest(tmp_path: Path) -> None:
    require_testdata()
    data_dir = tmp_path / "node"
    assert _finish(_ingest(data_dir, G1K_BATCHES[0], "centre-1"))[0] == 0
    baseline = national_counts(Settings(data_dir=data_dir))
    committed = None
    for delay in (0.3, 0.8, 1.5, 2.5):
        proc = _ingest(data_dir, G1K_BATCHES[2], "centre-3")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        _finish(proc)
        counts = national_counts(Settings(data_dir=data_dir))
        # either nothing of the run is visible, or all of it
        if counts != baseline:
            committed = committed or counts
            assert counts == committed
    assert _finish(_ingest(data_dir, G1K_BATCHES[2], "centre-3"))[0] == 0
    final = national_counts(Settings(data_dir=data_dir))
    assert committed is None or final == committed
