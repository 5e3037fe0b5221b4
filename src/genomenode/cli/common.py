"""What several commands share: the progress bar on stderr and the --engine choice."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

err = Console(stderr=True)


class EngineChoice(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


EngineOption = Annotated[
    EngineChoice | None,
    typer.Option("--engine", help="SQL engine for this command (default: $GENOMENODE_ENGINE, then duckdb)."),
]


@contextmanager
def progress_bar() -> Iterator[Any]:
    """A rich progress bar on stderr; `update(stage, done, total)` drives it (off unless a terminal
    or $GENOMENODE_PROGRESS, so scripts and CI logs get no control characters)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal and not os.environ.get("GENOMENODE_PROGRESS"),
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
