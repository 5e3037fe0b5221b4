"""What the benchmark scripts share: the machine they ran on, the commit they measured, timed
processes, percentiles, and their own section of docs/benchmarks.md.

The scripts run as `python benchmarks/<name>.py`, so this folder is on sys.path and they
`import common` (benchmarks/raredisease/report.py too).
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "benchmarks.md"
CODE = "src/genomenode"  # the code the benchmarks measure


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of the values, nearest rank; NaN for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


# --- the machine -------------------------------------------------------------------------------


def cpu_model() -> str:
    return next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )


def machine() -> str:
    """Cores, CPU model, memory, kernel and Python, in one line."""
    memory = next(
        (
            int(ln.split()[1]) / 1e6
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        ),
        0.0,
    )
    return (
        f"{os.cpu_count()} cores ({cpu_model()}), {memory:.0f} GB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


# --- git: what was measured --------------------------------------------------------------------


def git(*args: str) -> str:
    """`git -C <repo> ARGS`' standard output ("" when git fails)."""
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout


def commit() -> str:
    """The short hash of HEAD."""
    return git("rev-parse", "--short", "HEAD").strip() or "unknown"


def uncommitted(path: str = CODE) -> list[str]:
    """Files under `path` that differ from the commit: the tree is shared with other work."""
    return [ln[3:] for ln in git("status", "--porcelain", "--", path).splitlines() if ln.strip()]


def changed_during(start: str, end: str, path: str = CODE) -> list[str]:
    """Commits that changed `path` between two commits (a run that outlived HEAD)."""
    return [] if start == end else git("log", "--format=%h", f"{start}..{end}", "--", path).split()


# --- timed processes ---------------------------------------------------------------------------


def time_v(cmd: list[str], *, stdout: Any = subprocess.DEVNULL) -> tuple[float, float, str]:
    """Wall seconds and max RSS (MB) of one process under /usr/bin/time -v; the error text if it failed
    (the last line the process itself wrote to stderr, not time's report)."""
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=stdout, stderr=subprocess.PIPE, text=True)
    wall, rss = float("nan"), float("nan")
    own: list[str] = []  # what the process wrote, before time's own lines
    report = False
    for raw in done.stderr.splitlines():
        line = raw.strip()
        if line.startswith(("Command exited with non-zero status", "Command terminated by signal")) or (
            line.startswith("Command being timed:")
        ):
            report = True
        elif line.startswith("Elapsed (wall clock) time"):
            parts = line.rsplit(" ", 1)[1].split(":")
            wall = sum(float(p) * 60**k for k, p in enumerate(reversed(parts)))
        elif line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(" ", 1)[1]) / 1024
        elif not report and line:
            own.append(line)
    error = "" if done.returncode == 0 else (own or [f"exit status {done.returncode}"])[-1][-300:]
    return wall, rss, error


# --- docs/benchmarks.md ------------------------------------------------------------------------


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace the section `heading` in the file (up to the next `## ` heading), or append it."""
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = old.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == heading), None)
    if start is None:
        head, tail = old.rstrip("\n") + "\n\n", ""
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        head, tail = "".join(lines[:start]), "".join(lines[end:])
    path.write_text(head + text + ("\n" + tail if tail else ""))
