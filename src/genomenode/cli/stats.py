"""`genomenode stats check`: recompute every chromosome's statistics from scratch and compare.

The audit that incremental statistics have not drifted (pipeline.stats_check); at national scale
run it on the cluster: `GENOMENODE_ENGINE=spark GENOMENODE_SPARK_MASTER=spark://... genomenode stats check`.
Exit status 0 when every cell agrees, 1 when any differs (or on error).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from genomenode.cli.common import EngineOption, progress_bar
from genomenode.cli.sharing import fail
from genomenode.errors import GenomenodeError
from genomenode.settings import Settings

stats_app = typer.Typer(help="The precomputed allele statistics.", no_args_is_help=True)
err = Console(stderr=True)


class Output(StrEnum):
    tsv = "tsv"
    json = "json"


@stats_app.command("check")
def check(
    ctx: typer.Context,
    engine: EngineOption = None,
    output: Annotated[Output, typer.Option("--format", help="tsv or json")] = Output.tsv,
) -> None:
    """Recompute the statistics of every chromosome from its parts; list any cell that differs."""
    from genomenode.pipeline.stats_check import check_statistics

    settings: Settings = ctx.obj
    if engine is not None:
        settings = settings.model_copy(update={"engine": engine.value})
    try:
        with progress_bar() as update:
            results = check_statistics(settings, progress=update)
    except GenomenodeError as e:
        fail(e)
    if output is Output.json:
        document = [{**r.__dict__, "ok": r.ok} for r in results]
        json.dump({"engine": settings.engine, "chromosomes": document}, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("assembly\tchrom\tstored_rows\trecomputed_rows\tdiffering\tseconds\n")
        for r in results:
            sys.stdout.write(
                f"{r.assembly}\t{r.chrom}\t{r.stored_rows}\t{r.recomputed_rows}\t{r.differing}\t{r.seconds:.1f}\n"
            )
    drifted = [r for r in results if not r.ok]
    if not results:
        err.print("no statistics to check: the node holds no data yet")
    for r in drifted:
        err.print(f"[red]drift:[/red] {r.assembly} {r.chrom}: {r.differing} cell(s) differ", markup=True)
        for example in r.examples[:5]:
            err.print(f"  {example}", markup=False, highlight=False)
    if drifted:
        err.print("the stored statistics differ from the parts: re-run the last ingest, or report it", highlight=False)
        raise typer.Exit(1)


def install(app: typer.Typer) -> None:
    app.add_typer(stats_app, name="stats")
