"""`genomenode export`: cohort-wide exports, run by the store engine (DuckDB, or Spark on a cluster).

    genomenode export frequencies --out release.vcf.gz [--dataset D] [--exact]
    genomenode export genotypes --dataset D --out DIR

Without a token the node's operator at the console exports (audited as such); with one
($GENOMENODE_TOKEN or --token-file), the caller must be a data steward. `--engine` overrides
GENOMENODE_ENGINE for this run. pipeline.export does the work; this is its shell.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from genomenode.cli.common import EngineChoice, EngineOption, progress_bar
from genomenode.cli.sharing import fail
from genomenode.errors import GenomenodeError
from genomenode.settings import Settings

export_app = typer.Typer(
    help="Cohort-wide exports: the frequency release (VCF) and a dataset's genotypes (Parquet).",
    no_args_is_help=True,
)
err = Console(stderr=True)

TokenFile = Annotated[
    Path | None, typer.Option("--token-file", help="File holding a bearer token [default: $GENOMENODE_TOKEN].")
]


ForceOption = Annotated[bool, typer.Option("--force", help="Replace an existing output.")]


@contextmanager
def _session(ctx: typer.Context, engine: EngineChoice | None, token_file: Path | None) -> Iterator[dict[str, Any]]:
    """The settings (engine overridden), the gate, the caller and the store engine of one export."""
    from genomenode.access.gate import AccessControl
    from genomenode.cli.sharing import caller_from_token, local_admin
    from genomenode.store.engine import open_engine

    settings: Settings = ctx.obj
    if engine is not None:
        settings = settings.model_copy(update={"engine": engine.value})
    gate = AccessControl(settings)
    try:
        caller = caller_from_token(gate, token_file)
        console = caller.anonymous
        store = open_engine(
            settings.engine,
            threads=settings.query_threads,
            spark_master=settings.spark_master,
            spark_conf=settings.spark_conf,
        )
        try:
            yield {
                "settings": settings,
                "gate": gate,
                "caller": local_admin() if console else caller,
                "console": console,
                "engine": store,
            }
        finally:
            store.close()
    finally:
        gate.close()


@export_app.command("frequencies")
def frequencies(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The release to write: FILE.vcf.gz (and FILE.vcf.gz.tbi).")],
    dataset: Annotated[str | None, typer.Option("--dataset", help="One dataset [default: the whole nation].")] = None,
    exact: Annotated[
        bool,
        typer.Option("--exact", help="Every count as stored [default: small counts hidden as the public sees them]."),
    ] = False,
    engine: EngineOption = None,
    force: ForceOption = False,
    token_file: TokenFile = None,
) -> None:
    """The frequency release: a sites-only bgzipped VCF with its tabix index, one record per
    stored allele, AC/AN/AF/nhomalt/nhemi overall and per population, sex and centre."""
    from genomenode.pipeline.export import export_frequencies

    try:
        with _session(ctx, engine, token_file) as s, progress_bar() as update:
            settings: Settings = s["settings"]
            result = export_frequencies(
                settings,
                out=out,
                dataset=dataset,
                floor=None if exact else settings.small_count_floor,
                engine=s["engine"],
                gate=s["gate"],
                caller=s["caller"],
                console=s["console"],
                force=force,
                progress=update,
            )
    except GenomenodeError as exc:
        fail(exc)
        return
    floor = f"counts below {result.floor} hidden ({result.hidden} alleles' AC)" if result.floor else "exact counts"
    typer.echo(
        f"{result.path}: {result.alleles} alleles on {len(result.chromosomes)} chromosomes "
        f"({'national' if result.scope == '*' else result.scope}, {result.assembly}), {floor}; "
        f"index {result.index.name}; {result.engine}, {result.seconds:.1f} s"
    )


@export_app.command("genotypes")
def genotypes(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset whose genotypes to export.")],
    out: Annotated[Path, typer.Option("--out", help="The folder to create: CHROM.parquet files and manifest.json.")],
    engine: EngineOption = None,
    force: ForceOption = False,
    token_file: TokenFile = None,
) -> None:
    """A dataset's genotypes for an approved research environment: Parquet per chromosome, people
    named by pseudonym, only those whose consent allows research use; with manifest.json."""
    from genomenode.pipeline.export import export_genotypes

    try:
        with _session(ctx, engine, token_file) as s, progress_bar() as update:
            result = export_genotypes(
                s["settings"],
                out=out,
                dataset=dataset,
                engine=s["engine"],
                gate=s["gate"],
                caller=s["caller"],
                console=s["console"],
                force=force,
                progress=update,
            )
    except GenomenodeError as exc:
        fail(exc)
        return
    left = ", ".join(f"{n} {reason}" for reason, n in result.left_out.items()) or "none"
    typer.echo(
        f"{result.folder}: {result.individuals} people, {sum(result.rows.values())} calls on "
        f"{len(result.rows)} chromosomes ({result.dataset}, {result.assembly}); left out: {left}; "
        f"{result.engine}, {result.seconds:.1f} s"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
